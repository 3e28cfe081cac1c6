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
    again = parse_change(on_sso, "use okta for sign-in")
    assert again.spec is None
    assert again.questions == ["It already signs people in that way (your OpenID Connect issuer)."]


def test_a_token_field_is_a_field_not_a_way_in():
    read = parse_change(NOTES, "add a token field to notes")
    assert read.spec is not None and read.spec.auth == Auth.jwt
    assert read.diff == ["+ Note.token (str)"]


# Found by a review: words of signing in used for something else.
NOT_SIGN_IN = [
    ("a social media scheduler: twitter accounts have handle; posts have text", "none"),
    ("an ad spend tracker: campaigns have name and the Google account they run under", "none"),
    ("a conference api: talks have title and authors with github handles", "none"),
    ("an orders api with JWT auth, with Slack alerts for new orders", "jwt"),
    ("an orders api: orders have total. users log in, then sync orders with Google Sheets", "jwt"),
    ("a coupon api: coupons have code, discount and a one-time code for redemption", "none"),
    ("a pki inventory api: client certificates have serial, subject and expires_at", "none"),
    ("an HR api: employees have name and an IDP (individual development plan) status", "none"),
    ("a builds api: builds have a log on disk and a GitHub commit sha", "none"),
    ("workspaces api: workspaces have name and a Slack account id", "none"),
]


@pytest.mark.parametrize(("text", "auth"), NOT_SIGN_IN)
def test_sign_in_words_used_for_something_else_change_nothing(text, auth):
    assert sign_in_read(text) == auth


@pytest.mark.parametrize(
    "text",
    [
        "drop the authors table",
        "disable logins for suspended users",
        "remove the login rate limit",
        "books get an oauth client id",
        "developers have a GitHub account",
    ],
)
def test_a_change_about_something_else_leaves_sign_in_alone(text):
    base = parse_request(
        "a bookstore api with login: books have title. authors have name. developers have name"
    ).spec
    read = parse_change(base, text)
    assert read.spec is None or read.spec.auth == Auth.jwt


def test_a_change_with_a_field_and_a_move_to_the_issuer_does_both():
    read = parse_change(NOTES, "add a body to notes and use Okta for sign-in")
    assert read.diff == ["+ Note.body (text)", "~ auth: jwt → oidc"]


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("newsletter api: subscribers have email and signup source", ["email", "signup_source"]),
        ("newsletter api: subscribers have email, signup date", ["email", "signup_date"]),
        (
            "crm api: members have name, login count and last login",
            ["name", "login_count", "last_login"],
        ),
    ],
)
def test_a_field_about_signing_in_is_a_field_not_a_way_to_sign_in(text, fields):
    """Found by the blind table of field lists: 'a signup source' turned sign-in on and
    lost the field, silently."""
    spec = parse_request(text).spec
    assert spec is not None
    assert ([f.name for f in spec.entities[0].fields], spec.auth) == (fields, Auth.none)


@pytest.mark.parametrize(
    "text",
    [
        "kiosk api: shifts have start and end. employees log in at the kiosk",
        "members api: members have name. lock an account after 5 failed login attempts",
    ],
)
def test_signing_in_said_beside_a_field_word_is_still_signing_in(text):
    spec = parse_request(text).spec
    assert spec is not None and spec.auth == Auth.jwt
