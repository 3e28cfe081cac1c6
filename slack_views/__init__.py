"""Block Kit views of workflow state, shared by the bot and the worker; no Slack client here."""
