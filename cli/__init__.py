"""The roof: the entry points that wire every room together — the `shipmate` command
line, the dev stack and its databases, the doctor, the worker bootstrap, the operator's
identity. Nothing below imports from here."""
