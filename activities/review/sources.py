"""Where the code to review comes from, brought into the artifact store.

A Shipmate service's version is already there (its repository's key); a git URL is
cloned from an allowed host (activities/review/git_source), a Slack file downloaded
with the bot token, a pasted snippet written to a file. Each is bounded in size, and
the rest of the review reads it from the store on whichever worker runs it.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import tarfile
import tempfile
from pathlib import Path

from temporalio.client import Client

from activities import artifacts
from activities.review.git_source import SourceRefused, clone_for_review
from activities.slack_files import download_file
from shipmate.delivery_client import service_state
from shipmate.settings import Settings
from workflows.review_models import FetchedCode, ReviewRequest, ReviewSource, SourceKind
from workflows.spec import Auth

__all__ = ["SourceRefused", "fetch", "store_text", "load_text"]

MAX_SNIPPET = 200_000
SAFE_NAME = re.compile(r"[^\w.-]+")


async def fetch(settings: Settings, request: ReviewRequest, client: Client) -> FetchedCode:
    source = request.source
    if source.kind == SourceKind.service:
        key, version, open_by_design = await _service_repository(client, source)
        code = await asyncio.to_thread(_described, settings, key, source.label(), version)
        return code.model_copy(update={"open_by_design": open_by_design})
    return await asyncio.to_thread(_fetch_outside, settings, request)


async def _service_repository(client: Client, source: ReviewSource) -> tuple[str, int, bool]:
    """The version's repository key, its number, and whether its spec asks for no sign-in."""
    name = source.service or ""
    state = await service_state(client, name)
    if state is None or state.current_spec is None:
        raise SourceRefused(f"there is no service called {name} to review")
    open_by_design = {spec.version: spec.auth == Auth.none for spec in state.specs}
    if source.version is None or source.version == state.current_spec.version:
        if state.repository:
            version = state.current_spec.version
            return state.repository, version, open_by_design[version]
    for record in reversed(state.deliveries):
        if record.version == source.version and record.repository:
            return record.repository, record.version, open_by_design.get(record.version, False)
    known = sorted({r.version for r in state.deliveries if r.repository and r.version})
    held = ", ".join(f"v{v}" for v in known) or f"v{state.current_spec.version}"
    raise SourceRefused(f"{name} has no v{source.version} that I can read (I have {held})")


def _fetch_outside(settings: Settings, request: ReviewRequest) -> FetchedCode:
    source = request.source
    with tempfile.TemporaryDirectory(prefix="shipmate-fetch-") as tmp:
        root = Path(tmp) / "code"
        root.mkdir()
        skipped: list[str] = []
        if source.kind == SourceKind.git:
            cloned = clone_for_review(settings, source.url or "", root)
            skipped = list(cloned.skipped)
        elif source.kind == SourceKind.slack_file:
            name, data = download_file(settings, source.file_id or "", _max_bytes(settings))
            if b"\0" in data[:8192]:
                raise SourceRefused(f"{name} is a binary file: I review source code")
            (root / _safe(name)).write_bytes(data)
        else:
            text = source.snippet or ""
            if len(text.encode()) > MAX_SNIPPET:
                raise SourceRefused(f"the pasted code is over {MAX_SNIPPET // 1000} KB")
            (root / _safe(source.filename or "snippet.py")).write_text(text)
        key = artifacts.save(settings, "reviews", root)
    return _described(settings, key, source.label(), None, skipped)


def _described(
    settings: Settings, key: str, label: str, version: int | None, skipped=()
) -> FetchedCode:
    data = artifacts.fetch(settings, key)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
    if not members:
        raise SourceRefused(f"{label} has no files I can read")
    return FetchedCode(
        artifact=key,
        label=label,
        files=len(members),
        size_bytes=sum(m.size for m in members),
        skipped=list(skipped)[:50],
        base_spec_version=version,
    )


def _max_bytes(settings: Settings) -> int:
    return settings.review_max_mb * 1024 * 1024


def _safe(name: str) -> str:
    """A file name of the person's, as one harmless path segment."""
    cleaned = SAFE_NAME.sub("-", Path(name).name).strip(".-") or "code"
    return cleaned if "." in cleaned else cleaned + ".py"


def store_text(settings: Settings, folder: str, text: str, suffix: str) -> str:
    data = text.encode()
    key = f"{folder}/{hashlib.sha256(data).hexdigest()}{suffix}"
    artifacts.store_for(settings).put(key, data)
    return key


def load_text(settings: Settings, key: str) -> str:
    data = artifacts.store_for(settings).get(key)
    if not key.split("/")[-1].startswith(hashlib.sha256(data).hexdigest()):
        raise artifacts.ArtifactMissing(f"{key} in the artifact store does not match its hash")
    return data.decode()
