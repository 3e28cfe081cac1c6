"""The generated service's git repository: one commit per spec version, and optionally
a push to the team's own remote so the code lives where their other code lives.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

GIT_IDENTITY = ["-c", "user.name=Shipmate", "-c", "user.email=shipmate@localhost"]
GIT_TIMEOUT = 20  # seconds: local git calls on a small repository
FETCH_TIMEOUT = 30  # the team's remote: scaffold's limit (workflows/stage_limits.py) holds
PUSH_TIMEOUT = 60  # every call here, one after another
CREDENTIALS_IN_URL = re.compile(r"(\w+://)[^/@\s]+@")  # https://user:token@host/...


class PushFailed(Exception):
    """The remote refused the push; the message is git's, without credentials."""


def commit_version(repo: Path, message: str) -> str:
    """Commit the working tree of a generated repository; returns the commit id."""
    git = ["git", "-C", str(repo), *GIT_IDENTITY]
    _init(repo)
    subprocess.run([*git, "add", "-A"], check=True, timeout=GIT_TIMEOUT)
    status = subprocess.run(
        [*git, "status", "--porcelain"], capture_output=True, text=True, timeout=GIT_TIMEOUT
    )
    if status.stdout.strip():
        subprocess.run([*git, "commit", "-q", "-m", message], check=True, timeout=GIT_TIMEOUT)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=GIT_TIMEOUT
    )
    return head.stdout.strip()


def catch_up(repo: Path, remote_url: str, timeout: float = FETCH_TIMEOUT) -> None:
    """Move the repository's history to the remote's main, keeping the files just written,
    so the next commit follows what the team's remote holds and its push fast-forwards:
    this worker may never have scaffolded the service, or be behind another that did.
    A remote without main yet (or one that refuses) is left to the push to report."""
    _init(repo)
    try:
        fetched = subprocess.run(
            ["git", "-C", str(repo), "fetch", "--quiet", remote_url, "main"],
            capture_output=True,
            timeout=timeout,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except subprocess.TimeoutExpired:
        return
    if fetched.returncode == 0:
        git = ["git", "-C", str(repo)]
        subprocess.run([*git, "reset", "--quiet", "FETCH_HEAD"], check=True, timeout=GIT_TIMEOUT)


def _init(repo: Path) -> None:
    if not (repo / ".git").exists():
        subprocess.run(
            ["git", "-C", str(repo), "init", "-q", "-b", "main"], check=True, timeout=GIT_TIMEOUT
        )


def push_version(repo: Path, remote_url: str, timeout: float = PUSH_TIMEOUT) -> None:
    """Push main to the remote. Fast-forward only: a remote someone else has moved on is
    reported, never overwritten."""
    result = subprocess.run(
        ["git", "-C", str(repo), "push", "--quiet", remote_url, "HEAD:refs/heads/main"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # fail, never wait for a password
    )
    if result.returncode != 0:
        message = f"git push to {remote_url} failed: {result.stderr.strip()[-500:]}"
        raise PushFailed(CREDENTIALS_IN_URL.sub(r"\1***@", message))
