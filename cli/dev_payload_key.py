"""The payload key `shipmate dev` encrypts with: made once in the state dir, then reused.

Under `shipmate dev` payloads are encrypted as in production, with a key of the stack's
own kept in `<state dir>/payload.key` (mode 0600): made the first time, read every time
after, so histories written by an earlier run still open. A command line that talks to
a running `shipmate dev` reads the same file; SHIPMATE_PAYLOAD_KEYS, when set, wins.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from cli import identity
from shipmate.payload_codec import new_key, parse_keys
from shipmate.settings import Settings, SettingsError

KEY_FILE = "payload.key"


def key_file(state_dir: Path) -> Path:
    return state_dir.resolve() / KEY_FILE


def dev_payload_keys(state_dir: Path) -> str:
    """The stack's keys as SHIPMATE_PAYLOAD_KEYS takes them; the file is made if absent."""
    path = key_file(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: two processes starting at once cannot both make one
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as out:
        out.write(new_key(f"dev-{secrets.token_hex(3)}") + "\n")
    return _read(path)


def _read(path: Path) -> str:
    if path.stat().st_mode & 0o077:  # someone widened it: only its owner may read a key
        path.chmod(0o600)
    text = path.read_text().strip()
    try:
        parse_keys(text)
    except ValueError as exc:
        raise SettingsError(
            f"{path}: {exc}; delete it and `shipmate dev` makes a new key "
            "(what was encrypted under the old one will no longer open)"
        ) from None
    return text


def payload_keys_for_dev(settings: Settings) -> str:
    """What the stack's worker and bot encrypt with: the configured keys, or the stack's."""
    if settings.payload_keys is not None:
        return settings.payload_keys.get_secret_value()
    return dev_payload_keys(settings.state_dir)


def with_dev_stack_key(settings: Settings) -> Settings:
    """These settings, with the running `shipmate dev`'s key when none is configured."""
    if settings.payload_keys is not None or not identity.under_dev_stack(settings):
        return settings
    path = key_file(settings.state_dir)
    if not path.exists():
        return settings
    return settings.model_copy(update={"payload_keys": SecretStr(_read(path))})
