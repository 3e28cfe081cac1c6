"""Requests for new services, and whether the reader signs people in as their writer
meant: with the service's own passwords (jwt), through an OpenID Connect issuer (oidc),
not at all (none, said or left unsaid: absent), or with a question, for a way of
signing in that is not built."""

from __future__ import annotations

from understanding import parse_request
from understanding.rules import corrected
from understanding.service_words import read_service_words
from understanding.words import Request
from workflows.spec import Auth

SIGN_IN_QUESTION = "No auth"  # one of the answers the sign-in question offers


def sign_in_read(text: str) -> str:
    """jwt, oidc, none or question: how the reader would have the service sign people in."""
    read = parse_request(text)
    if any(SIGN_IN_QUESTION in choice.answers for choice in read.choices):
        return "question"
    if read.spec is not None:
        return "jwt" if read.spec.auth == Auth.oauth2 else read.spec.auth.value
    # Asked about something else (say, what it manages): what the service words said.
    said = read_service_words(Request(corrected(text))).auth
    return (said or Auth.none).value


def wanted(row: dict) -> str:
    want = row["want"]["auth"]
    return "none" if want == "absent" else want
