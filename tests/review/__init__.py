"""Reviewer mode: the analyzer and its findings."""
