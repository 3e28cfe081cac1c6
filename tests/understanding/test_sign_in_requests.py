"""How people ask to be signed in (sign_in_requests.jsonl, written by someone who never
read the reader, and read while mending it; the measure is
benchmarks/sign_in_requests_measure.jsonl, which nobody has read), and changes that move
a running service to its issuer, back to passwords, or open it up."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.event_requests import rows_of
from testkit.sign_in_requests import sign_in_read, wanted
from understanding import parse_change, parse_request
from understanding.rules import NOTHING_TO_MANAGE
from workflows.spec import Auth

ROWS = rows_of(Path(__file__).parent / "sign_in_requests.jsonl")
BRIEF = "Implement role-based authentication with OAuth 2.0 and JWT."


@pytest.mark.parametrize("row", ROWS, ids=[row["text"][:60] for row in ROWS])
def test_a_new_service_signs_people_in_as_asked(row):
    assert sign_in_read(row["text"]) == wanted(row)


def test_the_briefs_oauth_prompt_asks_what_it_manages_then_signs_in_through_the_issuer():
    first = parse_request(BRIEF)
    assert first.spec is None and NOTHING_TO_MANAGE in first.questions
    answered = parse_request(
        f"{BRIEF}\nit manages projects with name and owner; roles admin, member"
    )
    assert answered.spec is not None
    assert answered.spec.auth == Auth.oidc
    assert answered.spec.roles == ["admin", "member"]


def test_a_way_not_built_is_a_question_whose_answers_are_read_back():
    asked = parse_request("a notes api with saml sso: notes have title")
    (choice,) = asked.choices
    assert "SAML isn't built yet" in choice.question
    assert choice.answers == ["JWT", "OIDC", "No auth"]
    for answer, auth in zip(choice.answers, (Auth.jwt, Auth.oidc, Auth.none), strict=True):
        read = parse_request(f"a notes api with saml sso: notes have title\n{answer}")
        assert read.spec is not None and read.spec.auth == auth, answer


NOTES = parse_request("a notes api with jwt: notes have title").spec


@pytest.mark.parametrize(
    ("text", "auth"),
    [
        ("switch sign-in to Okta SSO", Auth.oidc),
        ("people should sign in with their Google account from now on", Auth.oidc),
        ("use our identity provider instead of passwords", Auth.oidc),
        ("drop the passwords, use OIDC", Auth.oidc),
        ("remove sign-in", Auth.none),
        ("auth: none", Auth.none),
    ],
)
def test_a_change_moves_sign_in(text, auth):
    read = parse_change(NOTES, text)
    assert read.spec is not None, read.questions
    assert read.spec.auth == auth
    assert read.diff == [f"~ auth: jwt → {auth.value}"]


def test_a_change_back_to_passwords_and_one_that_changes_nothing():
    on_sso = parse_change(NOTES, "switch to SSO through Keycloak").spec
    back = parse_change(on_sso, "use passwords instead of SSO")
    assert back.spec is not None and back.spec.auth == Auth.jwt
    again = parse_change(on_sso, "sign in with okta")
    assert again.spec is None
    assert again.questions == ["It already signs people in that way (your OpenID Connect issuer)."]


def test_a_token_field_is_a_field_not_a_way_in():
    read = parse_change(NOTES, "add a token field to notes")
    assert read.spec is not None and read.spec.auth == Auth.jwt
    assert read.diff == ["+ Note.token (str)"]
