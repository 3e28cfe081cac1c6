"""A local Slack: the Web API subset Shipmate uses, Socket Mode, signed HTTP events, a page."""
