"""Which of a review's fixes apply together, in order.

Each fix was checked alone; two may touch the same lines. They are applied one after
another to a copy of the code, and a fix that no longer applies on top of the ones
before it is left to the report (where it still reads as a suggestion), so "apply the
fixes" never hands the service a set that cannot go in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

GIT_TIMEOUT = 30


def apply_together(root: Path, patches: list[str]) -> list[str]:
    together: list[str] = []
    if not patches:
        return together
    with tempfile.TemporaryDirectory(prefix="shipmate-fixes-") as tmp:
        copy = Path(tmp) / "code"
        shutil.copytree(root, copy, symlinks=True)
        for patch in dict.fromkeys(patches):  # the same fix from two findings counts once
            if applies(copy, patch, check_only=False):
                together.append(patch)
    return together


def applies(root: Path, patch: str, *, check_only: bool = True) -> bool:
    text = patch if patch.endswith("\n") else patch + "\n"
    run = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", *(["--check"] if check_only else []), "-"],
        cwd=root,
        input=text.encode(),
        capture_output=True,
        timeout=GIT_TIMEOUT,
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(root.resolve().parent)},
    )
    return run.returncode == 0
