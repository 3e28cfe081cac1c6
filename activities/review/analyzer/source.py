"""The code under review, read once: every Python file's text and syntax tree.

Reviewed code is anything anyone uploaded: a file that is binary, not UTF-8, too large or
not Python that parses is skipped (and said so), never a crash.
"""

from __future__ import annotations

import ast
import io
import os
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "__pycache__",
    "node_modules",
    "site-packages",
    "build",
    "dist",
    "wheelhouse",
}
MAX_FILE_BYTES = 1_000_000  # a Python file larger than this is generated or data
MAX_FILES = 5_000


@dataclass
class Module:
    """One Python file: its path relative to the root (forward slashes) and its tree."""

    path: str
    text: str
    tree: ast.Module

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    @property
    def is_test(self) -> bool:
        return is_test_path(self.path)

    @property
    def is_migration(self) -> bool:
        parts = PurePosixPath(self.path).parts
        return "versions" in parts or "migrations" in parts or "alembic" in parts


@dataclass
class Project:
    root: Path
    modules: list[Module] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: why"
    memo: dict = field(default_factory=dict)  # what one check read that others reuse

    def module(self, path: str) -> Module | None:
        return next((m for m in self.modules if m.path == path), None)


def is_test_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    return (
        any(part in ("tests", "test", "testing") for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def python_files(root: Path) -> list[Path]:
    """The .py files under root, never following a link out of it."""
    found: list[Path] = []
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(directory) / name
            if name.endswith(".py") and not path.is_symlink() and path.is_file():
                found.append(path)
                if len(found) >= MAX_FILES:
                    return found
    return found


def links(root: Path) -> list[str]:
    """Symbolic links under root, relative: the tools are told to leave them alone, as a
    link may point anywhere outside the code under review."""
    found: list[str] = []
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in [*dirs, *files]:
            path = Path(directory) / name
            if path.is_symlink():
                found.append(path.relative_to(root).as_posix())
        if len(found) > 1000:
            break
    return found


def decode(raw: bytes) -> str | None:
    """The text as Python would read it (PEP 263 coding line honoured); None when binary."""
    if b"\x00" in raw:
        return None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None


def load(root: Path) -> Project:
    project = Project(root=root)
    for path in python_files(root):
        relative = path.relative_to(root).as_posix()
        try:
            raw = path.read_bytes()
        except OSError as exc:
            project.skipped.append(f"{relative}: unreadable ({exc.strerror})")
            continue
        if len(raw) > MAX_FILE_BYTES:
            project.skipped.append(f"{relative}: larger than {MAX_FILE_BYTES} bytes")
            continue
        text = decode(raw)
        if text is None:
            project.skipped.append(f"{relative}: binary or not in its declared encoding")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning of odd escapes: not ours
                tree = ast.parse(text, filename=relative)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            project.skipped.append(f"{relative}: does not parse ({type(exc).__name__})")
            continue
        project.modules.append(Module(path=relative, text=text, tree=tree))
    return project
