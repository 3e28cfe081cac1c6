"""Which of a review's fixes apply together, in order.

Each fix was checked alone; two may touch the same lines. They are applied one after
another to a copy of the code (with all of their context, as reviewed), and a fix that
no longer applies on top of the ones before it is left to the report (where it still
reads as a suggestion), so "apply the fixes" never hands the service a set that cannot
go in.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from activities.scaffold.fixes import apply_patch

GIT_TIMEOUT = 30  # one fix on a copy of the reviewed code


def apply_together(root: Path, patches: list[str]) -> list[str]:
    together: list[str] = []
    if not patches:
        return together
    with tempfile.TemporaryDirectory(prefix="shipmate-fixes-") as tmp:
        copy = Path(tmp) / "code"
        shutil.copytree(root, copy, symlinks=True)
        for patch in dict.fromkeys(patches):  # the same fix from two findings counts once
            text = patch if patch.endswith("\n") else patch + "\n"
            if not apply_patch(copy, text.encode(), timeout=GIT_TIMEOUT):
                together.append(patch)
    return together
