"""Entry points and configuration: the command line, settings, the local stack, the doctor,
the worker bootstrap, and the Temporal calls the CLI and the bot share."""
