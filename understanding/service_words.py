"""What a request says about the service as a whole: database, API kinds, sign-in,
roles, stack, where it runs, events.

A thread is read oldest line first and the latest line that speaks of a setting
decides it, so an answer to a question ("ECS then", "PostgreSQL is fine") settles it.
What Shipmate cannot build (a stack, a database, a target, a sign-in) becomes a
question naming it, with the answers it can build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from understanding.result import Choice
from understanding.sign_in_words import read_sign_in
from understanding.vocabulary import (
    API_WORDS,
    BUILT_STACKS,
    DATABASES,
    ENVIRONMENTS,
    OTHER_DATABASES,
    OTHER_STACKS,
    OTHER_TARGETS,
    TARGET_WORDS,
)
from understanding.words import WORD, Request
from workflows.spec import Api, Auth, Database, DeploySpec, DeployTarget


@dataclass
class ServiceWords:
    database: Database | None = None
    auth: Auth | None = None
    roles: list[str] = field(default_factory=list)
    roles_listed: bool = False  # 'roles: a, b' or 'a and b roles', not only 'as can …'
    api: list[Api] = field(default_factory=list)
    deploy: DeploySpec | None = None
    choices: list[Choice] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)


def read_service_words(request: Request) -> ServiceWords:
    lines = _lines(request)
    found = ServiceWords()
    found.database = _database(request, lines, found)
    found.api = _api(request, lines)
    _other_api(request, found)
    found.roles, found.roles_listed = _roles(request)
    found.auth = read_sign_in(request, lines, found.choices)
    if found.auth is None and found.roles:
        found.auth = Auth.jwt  # roles need someone signed in to have them
    _stack(request, lines, found)
    found.deploy = _deploy(request, lines, found)
    return found


def _lines(request: Request) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(r"\n|$", request.lowered):
        spans.append((start, match.start()))
        start = match.end()
    return spans


def _named(request: Request, lines, table, pattern: str = "") -> list[tuple[int, str]]:
    """(line number, word) for every word of `table` (or match of pattern) in the thread."""
    hits = []
    for number, (start, end) in enumerate(lines):
        for match in WORD.finditer(request.lowered, start, end):
            if match.group() in table:
                hits.append((number, match.group()))
                request.use(match.start(), match.end())
        if pattern:
            for match in re.finditer(pattern, request.lowered[start:end]):
                hits.append((number, match.group().replace(" ", "")))
                request.use(start + match.start(), start + match.end())
    return hits


def _database(request: Request, lines, found: ServiceWords) -> Database | None:
    hits = _named(request, lines, set(DATABASES) | set(OTHER_DATABASES), r"\bsql server\b")
    if not hits:
        return None
    word = hits[-1][1]
    if word in DATABASES:
        return DATABASES[word]
    name = OTHER_DATABASES.get(word, "SQL Server")
    found.choices.append(
        Choice(
            question=f"I generate services on PostgreSQL, MySQL/MariaDB or SQLite; {name} isn't "
            "built yet. Which of those shall it use?",
            answers=["PostgreSQL", "MySQL", "SQLite"],
        )
    )
    return None


# 'no REST', 'no need for graphql', "don't add auth", 'skip the login': what is not wanted.
NEGATED = re.compile(
    r"\b(?:no need (?:for|of)|no|without|skip(?:\s+the)?|never|(?:don'?t|do not|doesn'?t|"
    r"does not)\s+(?:add|need|want|use|include|bother with))\s+(?:any\s+|an?\s+)?"
    r"(?P<word>[a-z]+)"
)
# 'graphql only', 'only graphql': the one API wanted.
ONLY = re.compile(r"\b(?P<word>rest|restful|graphql)\s+only\b|\bonly\s+(?P<word2>rest|graphql)\b")


def negated(request: Request) -> set[str]:
    return {m["word"] for m in NEGATED.finditer(request.lowered)}


def _api(request: Request, lines) -> list[Api]:
    hits = _named(request, lines, API_WORDS)
    if not hits:
        return []
    said_not = negated(request)
    wanted = [w for _, w in hits if w not in said_not]
    if only := ONLY.search(request.lowered):
        wanted = [only["word"] or only["word2"]]
    if not wanted:
        return [Api.rest] if "rest" not in said_not else [Api.graphql]
    last_line = max(number for number, word in hits if word in wanted)
    words = {word for number, word in hits if number == last_line and word in wanted}
    return [api for api in Api if api.value in words or (api == Api.rest and "restful" in words)]


OTHER_APIS = {"soap": "SOAP", "xml-rpc": "XML-RPC", "json-rpc": "JSON-RPC", "thrift": "Thrift"}


def _other_api(request: Request, found: ServiceWords) -> None:
    """'a SOAP web service': asked about, unless a later word settles REST or GraphQL."""
    named = list(re.finditer(r"\b(?:soap|xml-rpc|json-rpc|thrift)\b", request.lowered))
    if not named:
        return
    for match in named:
        request.use_match(match)
    after = request.lowered[named[-1].end() :]
    if re.search(r"\b(?:rest|restful|graphql)\b", after):
        return
    kind = OTHER_APIS[named[-1].group()]
    found.choices.append(
        Choice(
            question=f"I make REST and GraphQL APIs; {kind} isn't built. Which shall it be?",
            answers=["REST", "GraphQL"],
        )
    )


ROLE_SEP = r"[ \t]*(?:,[ \t]*(?:and|or)[ \t]+|,|/|&|\+|[ \t]and[ \t]|[ \t]or[ \t])[ \t]*"
ROLE_ITEM = r"[a-z][a-z0-9_]*"
ROLE_LIST = rf"(?P<list>{ROLE_ITEM}(?:{ROLE_SEP}{ROLE_ITEM}){{0,7}})"
ROLE_PATTERNS = [
    # 'roles: admin, clerk', 'three roles - admins, editors and viewers', 'roles owner & stylist'
    r"\broles?\b(?!-based)(?:[ \t]+(?:are|is|of|like|such as|called|named|for))?"
    r"[ \t]*[:=(–—-]?[ \t]*" + ROLE_LIST,
    # 'doctor and receptionist roles', 'dispatcher and technician as roles'
    rf"\b{ROLE_LIST}[ \t]+(?:as[ \t]+)?roles?\b(?!-based)",  # not 'implement role-based auth'
    # 'only admins and editors can delete …'
    r"\b(?:only\s+)?(?P<list>(?:[a-z]+s)(?:\s*,\s*[a-z]+s)*(?:,?\s+and\s+[a-z]+s)?)\s+can\s+"
    r"(?:create|edit|delete|update|approve|close|read|view|see|manage|write|assign|add|remove"
    r"|resolve|reply|answer|publish|book|cancel|prescribe|schedule|register|invite|log)\b"
    r"(?:\s+(?:and\s+\w+\s+)?(?:the\s+|their\s+|all\s+|any\s+)?\w+)?",
]
# A list of roles ends at the first of these: 'roles admin and clerk, only admins can …'
NOT_ROLES = frozenset(
    "we you they it that which who the also roles role only as with where can user users "
    "and or a an of to for jwt auth login two three four five six some both".split()
)
# Roles named after a team keep their 's': 'sales', 'ops'; 'admins', 'vets' do not.
TEAMS = frozenset("sales ops devops operations logistics finance hr it analytics".split())


def _role_name(word: str) -> str:
    from understanding.names import singular  # names imports vocabulary only

    return word if word in TEAMS or word.endswith(("ss", "us", "is")) else singular(word)


def _roles(request: Request) -> tuple[list[str], bool]:
    roles: list[str] = []
    listed = False
    listed_before: set[int] = set()  # 'doctor and receptionist roles: patients have …'
    for number in (1, 0, 2):
        for match in re.finditer(ROLE_PATTERNS[number], request.lowered):
            if number == 0 and any(
                match.start() < end <= match.start() + 6 for end in listed_before
            ):
                continue
            named = []
            for word in re.split(ROLE_SEP, match["list"]):
                if word in NOT_ROLES:
                    if named or number != 1:
                        break
                    continue  # 'we'd like dispatcher …': before the list
                named.append(_role_name(word))
            if number == 1 and named:
                named = named[-8:]
                listed_before.add(match.end())
            if named:
                listed = listed or number != 2
                request.use_match(match, 0)
                roles += [r for r in named if r not in roles and re.fullmatch(r"[a-z_]{2,20}", r)]
    if not roles and re.search(r"\badmins?\b", request.lowered):
        for match in re.finditer(r"\badmins?\b", request.lowered):
            request.use_match(match)
        roles = ["admin", "user"]
    if roles == ["admin"]:
        roles.append("user")  # admin alone would leave nobody an admin can be told apart from
    return roles[:8], listed


STACK_PHRASES = {
    r"\b(?:in|using|with) go\b(?! live| ahead)": "Go",
    r"\bspring boot\b": "Spring Boot",
    r"\bruby on rails\b": "Rails",
    r"\bnest\.?js\b": "NestJS",
    r"\bnode\.?js\b": "Node.js",
    r"\bexpress\.?js\b": "Express",
    r"(?:\basp)?\.net\b": ".NET",
    r"\bc#": "C#",
}


def _stack(request: Request, lines, found: ServiceWords) -> None:
    """The latest stack named decides: FastAPI (or Python) builds, any other is asked."""
    named: list[tuple[int, str | None]] = []  # (place, name); None is a stack we build
    for pattern, name in STACK_PHRASES.items():
        for match in re.finditer(pattern, request.lowered):
            named.append((match.start(), name))
            request.use_match(match)
    for match in WORD.finditer(request.lowered):
        word = match.group()
        if word in OTHER_STACKS or word in BUILT_STACKS:
            if word in AMBIGUOUS and not _said_as_a_name(request.lowered, match):
                continue
            if not request.used(match.start(), match.end()):
                named.append((match.start(), OTHER_STACKS.get(word)))
            request.use(match.start(), match.end())
    if not named:
        return
    name = max(named, key=lambda hit: hit[0])[1]
    if name is not None:
        found.choices.append(
            Choice(
                question=f"I generate Python services with FastAPI; {name} isn't built yet. "
                "Shall I build it with FastAPI?",
                answers=["Yes, FastAPI"],
            )
        )


# Stack and platform names that are also everyday words ('express delivery', 'spring
# sale', 'render a PDF'): they count only where they read as a name.
AMBIGUOUS = frozenset(
    "express node spring rust ruby phoenix gin bun koa deno fly render java azure laptop".split()
)


def _said_as_a_name(flat: str, match: re.Match) -> bool:
    before = re.findall(r"[a-z]+", flat[max(0, match.start() - 20) : match.start()])[-1:]
    after = re.findall(r"[a-z]+", flat[match.end() : match.end() + 20])[:1]
    return bool(
        set(before) & {"using", "with", "in", "on", "onto", "to", "via", "written", "built"}
    ) or bool(set(after) & {"js", "api", "app", "backend", "server", "framework", "boot"})


def _deploy(request: Request, lines, found: ServiceWords) -> DeploySpec:
    flat = request.lowered
    if match := re.search(r"\b(?:do not|don'?t|dont|no|without|not|never) deploy\w*(?: it)?", flat):
        request.use_match(match)
        return DeploySpec(target=DeployTarget.none, environments=[])
    said_as_a_place = {  # 'render', 'laptop': a target only as where it runs ('on my laptop')
        word
        for word in set(TARGET_WORDS) | set(OTHER_TARGETS)
        if word not in AMBIGUOUS
        or re.search(rf"\b(?:on|to|onto|in)(?: my| this| the| our| a)? {word}\b", flat)
    }
    hits = _named(request, lines, said_as_a_place, r"\bcloud run\b")
    target = None
    if hits:
        word = hits[-1][1]
        target = TARGET_WORDS.get(word)
        if target is None:
            name = OTHER_TARGETS.get(word, "Cloud Run")
            found.choices.append(
                Choice(
                    question="I deploy to AWS ECS (Fargate) or the local Docker engine; "
                    f'{name} isn\'t built yet. Where shall it run? Say "on ECS" or "locally".',
                    answers=["On ECS", "Locally"],
                )
            )
            target = DeployTarget.local
    elif re.search(r"\baws\b", flat):  # AWS without a service: ECS runs a FastAPI app as it is
        target = DeployTarget.aws_ecs
    if target is None:
        target = DeployTarget.local
        found.defaults.append("deploy target: local")
    envs = []
    for match in WORD.finditer(flat):
        word = match.group()
        if word in ENVIRONMENTS and word != "test" and not _a_field_word(request.folded, match):
            request.use(match.start(), match.end())
            envs.append(ENVIRONMENTS[word])
    envs = list(dict.fromkeys(envs))
    env_words = "|".join(ENVIRONMENTS)
    if re.search(rf"\b({env_words}) or ({env_words})\b", flat) and "prod" in envs:
        found.choices.append(
            Choice(
                question="Which environment should this go to first: " + " or ".join(envs) + "?",
                answers=envs,
            )
        )
    if not envs:
        envs = ["staging"]
        found.defaults.append("environments: staging")
    return DeploySpec(target=target, environments=envs)


def _a_field_word(flat: str, match: re.Match) -> bool:
    """'stage (lead/won)', 'is_live bool', 'dev hours': words that name environments only
    where they read as one ('to dev', 'staging then prod', 'Env: dev')."""
    if match.group() in ("staging", "production", "prod"):
        return False
    before = flat[max(0, match.start() - 14) : match.start()]
    after = flat[match.end() : match.end() + 14]
    said = re.search(
        r"(?:\b(?:to|in|on|into|go|goes|going|then|and|or|deploy\w*|envs?)\s*|:\s*)$", before
    )
    return not said or bool(re.match(r"\s*(?:\(|:\s*[a-z]+\s*(?:/|,|\bor\b))", after))
