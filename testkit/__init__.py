"""What the tests and the benchmarks both drive Shipmate with: a person in the emulator
(chat), scripted stand-in stages, worker processes, a local OpenAI-compatible server,
the request table, and patient waiting. Not shipped: it imports the roof (cli) and
every room below it, and nothing imports it but tests/ and benchmarks/."""
