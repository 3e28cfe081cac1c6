"""Optimizer mode: load a deployed service, measure it, and say where the time goes."""
