"""A review's fixes, applied on top of the generated code and kept with the service.

The generator writes every file anew for each version, so a fix applied once would be
gone in the next version. Each accepted fix is kept in the repository's `fixes/` folder
(numbered, in the order they were accepted) and applied again after every generation,
on whichever worker scaffolds it. A kept fix that no longer applies (the generated code
moved under it) is dropped and named; a new one that does not apply stops the stage.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

FIXES_DIR = "fixes"
GIT_TIMEOUT = 60


class FixDoesNotApply(Exception):
    """A fix just asked for does not apply to the generated code; git's words."""


def apply_fixes(repo: Path, kept: dict[str, bytes], new: list[str]) -> tuple[str, list[str]]:
    """Apply the kept fixes, then the new ones; returns a digest of what was applied (it
    joins the version's fingerprint, so the image tag changes with them) and notes."""
    folder = repo / FIXES_DIR
    shutil.rmtree(folder, ignore_errors=True)
    applied: list[bytes] = []
    notes: list[str] = []
    for name, patch in sorted(kept.items()):
        error = apply_patch(repo, patch, context=1)
        if error:
            notes.append(f"the earlier fix {Path(name).name} no longer applies and was dropped")
        else:
            applied.append(patch)
    for number, text in enumerate(new, 1):
        patch = text.encode() if text.endswith("\n") else (text + "\n").encode()
        error = apply_patch(repo, patch, context=1)
        if error:
            raise FixDoesNotApply(f"fix {number} of {len(new)} does not apply: {error}")
        applied.append(patch)
    if applied:
        folder.mkdir()
        for number, patch in enumerate(applied, 1):
            (folder / f"{number:04d}.patch").write_bytes(patch)
    digest = hashlib.sha256(b"\0".join(applied)).hexdigest() if applied else ""
    return digest, notes


def apply_patch(
    repo: Path, patch: bytes, *, context: int | None = None, timeout: float = GIT_TIMEOUT
) -> str:
    """Apply one unified diff to the working tree; '' when it applied, else why not.
    `context`: how many lines of a hunk's context must match (git's -C). A kept or new
    fix asks for one, as `patch` allows: it was made on an earlier version, and the
    lines around it are generated anew (a version number, a new field); the lines it
    changes must still be there as they were. None: all of them."""
    run = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", *([f"-C{context}"] if context else []), "-"],
        cwd=repo,
        input=patch,
        capture_output=True,
        # a repository not yet committed must not be taken for part of a parent's
        env={**os.environ, "GIT_CEILING_DIRECTORIES": str(repo.resolve().parent)},
        timeout=timeout,
    )
    if run.returncode == 0:
        return ""
    said = run.stderr.decode(errors="replace").strip().splitlines()
    return (said[0][:300] if said else "") or "git apply failed"  # git may say nothing
