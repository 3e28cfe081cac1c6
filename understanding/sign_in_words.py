"""How a request would have people sign in: with the service's own accounts and
passwords (jwt), through an OpenID Connect issuer (oidc: OAuth, SSO, Okta, "log in with
their Google account"…), not at all, or in a way Shipmate does not build (a question).

The latest line that speaks of signing in decides. Within it, a way not built outweighs
the rest ("SAML SSO"), an identity provider outweighs the password words around it
("SSO login via Okta"), and a provider pushed aside ("no SSO, just a login", "SSO
later", "the OAuth2 password flow") leaves the passwords.
"""

from __future__ import annotations

import re

from understanding.result import Choice
from understanding.vocabulary import AUTH_WORDS
from understanding.words import Request
from workflows.spec import Auth

OPEN = re.compile(
    r"\bauth\w*\s*[:=]\s*(?:none|no|off|false|disabled|open)\b"
    r"|\bno (?:login|auth\w*) needed\b"
    r"|\b(?:no|without|skip(?: the)?|public,? no)\s+(?:auth\w*|login|sign[- ]?in)\b"
    r"|\bpublic(?: api)?,? (?:no|without) (?:auth\w*|login)\b|\bno need for auth\w*"
    r"|\b(?:don'?t|do not)\s+(?:add|need|want|use|include|bother with)\s+(?:any\s+)?"
    r"(?:auth\w*|login|sign[- ]?in)\b"
    r"|\b(?:fully|completely|totally) open\b|\bopen to (?:everyone|anyone|the world)\b"
)
# Ways of signing in that are not built: each becomes a question naming it. The first
# are ways in whatever the line; the others only beside a sign-in word ("coupons have a
# one-time code" is a field; "log in with a one-time code" is a way in).
NOT_BUILT = {
    r"\bapi[- ]?keys?\b": "API keys",
    r"\bsaml\b": "SAML",
    r"\bbasic auth\w*\b|\bhttp basic\b": "basic auth",
    r"\bmtls\b|\bmutual tls\b": "mTLS",
    r"\bpasskeys?\b|\bwebauthn\b": "passkeys",
}
NOT_BUILT_BESIDE_SIGN_IN = {
    r"\bclient certificates?\b": "mTLS",
    r"\bmagic[- ]?links?\b": "magic links",
    r"\bone[- ]?time (?:codes?|passwords?|pins?)\b|\botps?\b|\bsms codes?\b": "one-time codes",
    r"\bldap\b|\bactive directory bind\b": "LDAP",
}
SIGN_IN_CONTEXT = re.compile(
    r"\b(?:(?:sign|log)[- ]?(?:in|on|up)s?|logins?|auth(?:entication|enticated?|enticates"
    r"|orization)?|secur(?:e|ed|ity)|protect(?:ed)?|tokens?|access)\b"
)
# An issuer people name: a protocol, a kind of provider, or a product; an "IdP" only
# beside a sign-in word ("an IDP (individual development plan) status" is a field).
ISSUER = re.compile(
    r"\boauth ?2?(?:\.0)?\b|\bsso\b|\bsingle[- ]sign[- ]?on\b|\boidc\b|\bopen ?id(?: connect)?\b"
    r"|\bidentity provider\b|\bokta\b|\bauth0\b|\bkeycloak\b"
    r"|\bazure (?:ad|active directory)\b"
    r"|\bentra(?: id)?\b|\bcognito\b|\bonelogin\b|\bping ?(?:identity|federate|one)\b"
    r"|\bfusionauth\b|\bzitadel\b|\bauthentik\b|\bjumpcloud\b"
)
ISSUER_BESIDE_SIGN_IN = re.compile(r"\bidps?\b")
# Accounts elsewhere that sign people in when a sign-in word stands right by them: "log
# in with their Google account", "Sign in with GitHub", "Google sign-in" (not "sync
# with Google Sheets", "authors with github handles", "a Slack account id").
SOCIAL = r"(?:google|github|gitlab|microsoft|apple|facebook|slack|linkedin|twitter)"
SIGN_IN = r"(?:(?:sign|log)[- ]?(?:in|on)s?|logins?|auth(?:entication|enticate)?|sso)"
PRODUCT = (
    r"(?!\s+(?:sheets?|docs|drive|calendar|maps|analytics|ads|cloud|pay|play|webhooks?|actions"
    r"|issues|repos?|repositor\w+|commits?|store|music|alerts?|notifications?|channels?|messages?"
    r"|handles?)\b)"
)
SOCIAL_SIGN_IN = re.compile(
    rf"\b{SIGN_IN}\s+(?:in\s+)?(?:with|via|through|using)\s+(?:(?:their|your|our|a|an|the|"
    rf"existing)\s+)?(?:own\s+)?{SOCIAL}\b{PRODUCT}"
    rf"|\b{SOCIAL}\s+(?:accounts?\s+)?{SIGN_IN}\b"
)
# An issuer set aside: the line's password words stand.
NOT_ISSUER = re.compile(
    r"\b(?:no|without|not|skip(?: the)?)\s+(?:an? )?(?:sso|oauth\w*|oidc|single[- ]sign[- ]?on"
    r"|identity provider|idp)\b"
    r"|\b(?:sso|oauth\w*|oidc|okta|idp)\b[^.;\n]{0,12}?\blater\b"
    r"|\b(?:don'?t|do not) have (?:an? |any )?(?:sso|identity provider|idp)\b"
    r"|\b(?:oauth ?2?(?:\.0)? )?(?:resource[- ]owner )?password (?:flow|grant)\b"
)
# 'OIDC instead of passwords': what is replaced is not what is asked for.
INSTEAD = re.compile(
    r"\b(?:instead of|rather than|in place of|replacing) (?:the |our |its )?[\w -]{1,30}?"
    r"(?=[,.;)]|$| for\b| now\b)"
)
# 'remove sign-in': a running service opened up.
REMOVED = re.compile(
    r"\b(?:remove|drop|turn off|disable|get rid of)\s+(?:the\s+|all\s+)?"
    r"(?:sign[- ]?ins?|auth(?:entication)?|logins?|sso|oidc)"
    r"(?=\s*(?:$|entirely|completely|altogether|from (?:it|the service|[a-z0-9]+-[a-z0-9-]+)\s*$))"
    r"|\bmake it public\b"
)
# 'audit log in the db': a log kept, nobody logging in.
KEPT_LOG = re.compile(
    r"\b(?:audit|change|activity|access|event|error|request|build|server|debug|a|the|its|our)"
    r"[- ]log (?:in|on)\b"
)
WORD = re.compile(r"\b(?:sign|log)[- ]?(?:in|on|up)\b|\b\w+\b")
# A field about signing in, not a way to: 'signup date', 'login count', 'last login'.
FIELD_AFTER = re.compile(r"[ \t]*(?:dates?|times?|source|counts?|streak|history)\b")
FIELD_BEFORE = re.compile(r"\b(?:last|first|latest|number of)[ \t]+$")

QUESTION = (
    "I can sign people in with passwords of the service's own (JWT) or through your "
    "OpenID Connect issuer (SSO), or leave it open; {way} {be}n't built yet. "
    "Which shall it be?"
)
ANSWERS = ["JWT", "OIDC", "No auth"]
SWITCH = re.compile(r"\b(?:switch|use|move|change|go back|back to|instead|from now on)\b")
WAYS = {
    Auth.jwt: "passwords, JWT",
    Auth.oauth2: "passwords, OAuth2 password flow",
    Auth.oidc: "your OpenID Connect issuer",
    Auth.none: "nobody signs in",
}


def read_sign_in(
    request: Request, lines: list[tuple[int, int]], choices: list[Choice]
) -> Auth | None:
    """The way people sign in that the request names, or None when it names none; a way
    not built adds a question to `choices` (and gives None)."""
    said: list[tuple[int, Auth | str]] = []
    for start, end in lines:
        line = request.lowered[start:end]
        said += _hits(request, line, start)
    if not said:
        return None
    said.sort(key=lambda hit: hit[0])
    last_line = request.lowered.count("\n", 0, said[-1][0])
    decided = [kind for at, kind in said if request.lowered.count("\n", 0, at) == last_line]
    if not_built := [kind for kind in decided if not isinstance(kind, Auth)]:
        way = not_built[-1]
        be = "are" if way.endswith("s") else "is"
        choices.append(Choice(question=QUESTION.format(way=way, be=be), answers=ANSWERS))
        return None
    if Auth.oidc in decided and decided[-1] != Auth.none:
        return Auth.oidc
    return decided[-1]


def _hits(request: Request, line: str, start: int) -> list[tuple[int, Auth | str]]:
    hits: list[tuple[int, Auth | str]] = []

    def take(match: re.Match, kind: Auth | str) -> None:
        at, until = start + match.start(), start + match.end()
        if not request.used(at, until):
            hits.append((at, kind))
            request.use(at, until)

    for match in INSTEAD.finditer(line):
        request.use(start + match.start(), start + match.end())
    for match in OPEN.finditer(line):
        take(match, Auth.none)
    for match in KEPT_LOG.finditer(line):
        request.use(start + match.start(), start + match.end())
    for match in NOT_ISSUER.finditer(line):
        take(match, Auth.jwt)
    beside_sign_in = bool(SIGN_IN_CONTEXT.search(line))
    for patterns, needs_context in ((NOT_BUILT, False), (NOT_BUILT_BESIDE_SIGN_IN, True)):
        for pattern, name in patterns.items():
            for match in re.finditer(pattern, line):
                if beside_sign_in or not needs_context:
                    take(match, name)
    for match in SOCIAL_SIGN_IN.finditer(line):
        take(match, Auth.oidc)
    for match in ISSUER.finditer(line):
        take(match, Auth.oidc)
    for match in ISSUER_BESIDE_SIGN_IN.finditer(line) if beside_sign_in else ():
        take(match, Auth.oidc)
    for match in WORD.finditer(line):
        word = match.group().replace("-", "").replace(" ", "")
        field = FIELD_AFTER.match(line, match.end()) or FIELD_BEFORE.search(line[: match.start()])
        if field and word in ("signin", "logon", "login", "logins", "signup", "signups"):
            continue
        if word in AUTH_WORDS or word in ("signin", "logon", "login", "signup", "logup"):
            take(match, AUTH_WORDS.get(word, Auth.jwt))
    return hits


def change_sign_in(data: dict, clause: str) -> tuple[bool, str | None] | None:
    """A change request's clause about signing in ('switch to Okta SSO', 'people sign
    in with passwords instead of SSO', 'remove sign-in'): whether `data` changed and
    the question to ask instead; None when the clause is not about signing in."""
    if re.search(r"\b(?:fields?|columns?|ha(?:ve|s)|gets?)\b", clause):
        return None  # 'add a token field', 'books get an oauth client id': values kept
    request = Request(clause)
    if removed := REMOVED.search(request.lowered):
        request.use_match(removed)
        auth: Auth | None = Auth.none
    else:
        choices: list[Choice] = []
        auth = read_sign_in(request, [(0, len(clause))], choices)
        if choices:
            return False, choices[0].question
    if auth is None:
        return None
    if data["auth"] == auth:  # said again, or words about something else ('disable logins
        if not SWITCH.search(request.lowered):  # for suspended users')
            return None
        return False, f"It already signs people in that way ({WAYS[auth]})."
    data["auth"] = auth
    return True, None
