"""Where an outbox's backlog waits when it is too big to carry through continue-as-new.

Temporal refuses a payload over 2 MB, and a long Slack outage can queue more than that
in one channel (the benchmark's 3,000 short messages carried 650 KB). The outbox hands
such a backlog to `stash_backlog` in parts (each an activity payload well under the
limit) before it continues as new, and the next run takes the parts back with
`fetch_backlog` (a claim check), so the state it is handed holds only their keys, and
`forget_backlog` deletes the parts once the next run's history holds them. The
backlog is Slack text, so it is sealed with the payload key when one is set, as the
history it stands in for would be; it lives in the artifact store every worker shares.
"""

from __future__ import annotations

import hashlib

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.exceptions import ApplicationError

from activities.artifacts import ArtifactMissing, store_for
from shipmate.payload_codec import EncryptionCodec, PayloadKeyError, parse_keys
from shipmate.settings import Settings
from workflows import activity_contracts as contracts
from workflows.activity_contracts import implements
from workflows.outbox_messages import Backlog

FOLDER = "outbox-backlogs"


class BacklogStash:
    def __init__(self, settings: Settings):
        self.settings = settings
        keys = settings.payload_keys
        self._codec = EncryptionCodec(parse_keys(keys.get_secret_value())) if keys else None

    @implements(contracts.stash_backlog)
    def stash_backlog(self, backlog: Backlog) -> str:
        payload = Payload(data=backlog.model_dump_json().encode())
        sealed = (self._codec.encrypt(payload) if self._codec else payload).SerializeToString()
        key = f"{FOLDER}/{hashlib.sha256(sealed).hexdigest()}"
        store_for(self.settings).put(key, sealed)
        return key

    @implements(contracts.fetch_backlog)
    def fetch_backlog(self, key: str) -> Backlog:
        try:
            payload = Payload.FromString(store_for(self.settings).get(key))
        except ArtifactMissing as missing:  # the store was emptied: no retry brings it back
            gone = ApplicationError(str(missing), type="BacklogUnreadable", non_retryable=True)
            raise gone from None
        try:
            if self._codec:
                payload = self._codec.decrypt(payload)
            return Backlog.model_validate_json(payload.data)
        except (PayloadKeyError, ValidationError) as error:  # no retry reads it
            reason = f"{key}: {type(error).__name__}: {str(error)[:200]}"
            raise ApplicationError(reason, type="BacklogUnreadable", non_retryable=True) from None

    @implements(contracts.forget_backlog)
    def forget_backlog(self, keys: list[str]) -> None:
        store = store_for(self.settings)
        for key in keys:
            store.delete(key)
