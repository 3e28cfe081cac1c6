"""The ground floor: what the bot, the activities and understanding all use — Settings,
the Temporal connection, telemetry, people and policies, and the client-side calls that
start, decide and report on deliveries and send through the Slack outbox. It imports
only workflows/ (the domain) and never a room above it."""
