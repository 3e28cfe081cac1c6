"""The reviewer's static analyzer: `python -m analyzer SRC_DIR` prints one SARIF 2.1.0
document, one run per tool (ruff, bandit, radon, mypy) and one for the structural checks
no linter makes (`checks/`).

It runs inside a locked-down container (no network, read-only root, non-root, only /tmp
writable) with the standard library and the tools as subprocesses, so nothing here
imports Shipmate: the package is copied to /opt/analyzer and run with PYTHONPATH=/opt.
A tool that fails or runs out of time is a run that says so, never a crash.
"""
