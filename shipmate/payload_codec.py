"""Payload encryption: what Temporal stores of a delivery is unreadable without a key.

Every payload a client or a worker hands Temporal (Slack text, specs, test output, log
tails, failure messages) is sealed with AES-GCM under the first key of
SHIPMATE_PAYLOAD_KEYS, and carries that key's id in its metadata, so keys rotate: put a
new key first and keep the old ones after it until no history needs them. A payload
that is not encrypted (a history from before encryption) passes through unchanged.
A key never appears in an error, a log line or a repr; only its id does.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_SIZES = (16, 24, 32)  # AES-128, -192, -256
VARIABLE = "SHIPMATE_PAYLOAD_KEYS"
ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class PayloadKeyError(Exception):
    """A payload cannot be opened: unknown key id, wrong key, or tampered with."""


@dataclass(frozen=True)
class PayloadKey:
    id: str
    secret: bytes = field(repr=False)


def parse_keys(text: str) -> list[PayloadKey]:
    """`id:base64key[,id:base64key…]`, newest first. What is wrong names the entry by
    its place and id, never by its key."""
    keys: list[PayloadKey] = []
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if not entries:
        raise ValueError("no key: give id:base64key, newest first, separated by commas")
    for place, entry in enumerate(entries, 1):
        key_id, colon, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not colon or not ID_PATTERN.match(key_id):
            raise ValueError(
                f"entry {place} is not id:base64key (an id of letters, digits, . _ or -)"
            )
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"key {key_id!r} is not base64") from None
        if len(secret) not in KEY_SIZES:
            raise ValueError(f"key {key_id!r} is {len(secret)} bytes; AES needs 16, 24 or 32")
        if any(key.id == key_id for key in keys):
            raise ValueError(f"key id {key_id!r} is given twice")
        keys.append(PayloadKey(key_id, secret))
    return keys


def new_key(key_id: str) -> str:
    """A fresh entry for SHIPMATE_PAYLOAD_KEYS: the id and 32 random bytes (AES-256)."""
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCODING


class EncryptionCodec(PayloadCodec):
    """AES-GCM with the first key; decrypts with whichever key the payload names."""

    def __init__(self, keys: Sequence[PayloadKey]):
        if not keys:
            raise ValueError(f"{VARIABLE}: no key")
        self._current = keys[0]
        self._ciphers = {key.id: AESGCM(key.secret) for key in keys}

    def __repr__(self) -> str:
        return f"EncryptionCodec(key ids {', '.join(self._ciphers)})"

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._current.id.encode()
        nonce = os.urandom(NONCE_BYTES)
        # the key id is authenticated too: a payload relabelled to another key fails
        sealed = self._ciphers[self._current.id].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if not is_encrypted(payload):
            return payload  # written before encryption was on
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(
                f"payload encrypted with key id {key_id!r}, which is not in {VARIABLE} "
                f"(known: {', '.join(self._ciphers)}); add that key after the current one"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise PayloadKeyError(
                f"payload under key id {key_id!r} does not open with that id's key "
                f"in {VARIABLE}: a different key under the same id, or the payload was altered"
            ) from None
        opened = Payload()
        opened.ParseFromString(plain)
        return opened
