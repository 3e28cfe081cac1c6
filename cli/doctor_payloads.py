"""The doctor's word on payload encryption: whether what Temporal stores can be read.

With SHIPMATE_PAYLOAD_KEYS set, every payload is sealed with its first key (the line
names that key's id and how many older keys still decrypt, never a key). Without it,
a Temporal of one's own holds Slack text, specs and log tails in plain text, which is
a warning; the local dev server is encrypted only under `shipmate dev`.
"""

from __future__ import annotations

from cli.checks import Check
from cli.dev_payload_key import key_file
from shipmate.payload_codec import parse_keys
from shipmate.settings import Settings

NEW_KEY = "python -c \"import base64,os; print('k1:' + base64.b64encode(os.urandom(32)).decode())\""


def payload_check(settings: Settings, own_temporal: bool) -> Check:
    if settings.payload_keys is not None:
        ids = [key.id for key in parse_keys(settings.payload_keys.get_secret_value())]
        older = f"; {len(ids) - 1} older key(s) still decrypt" if len(ids) > 1 else ""
        return Check("payloads", True, f"encrypted (AES-GCM) with key id {ids[0]}{older}")
    if own_temporal:
        return Check(
            "payloads",
            False,
            "not encrypted: Slack text, specs and log tails are readable in every history",
            f"set SHIPMATE_PAYLOAD_KEYS=<id>:<base64 of 32 random bytes> for every worker, "
            f"bot and command line (make one: {NEW_KEY}); the Web UI reads them through "
            "`shipmate codec-server`",
            essential=False,
        )
    return Check(
        "payloads",
        True,
        "plain outside `shipmate dev`, which encrypts with its key in "
        f"{key_file(settings.state_dir)}",
    )
