"""Who may do what, as people write it: "only doctors can prescribe", "agents can close
tickets", "admins delete", "invoices can only be approved by managers", "pets visible to
vets only", "Deleting recipes: admins only".

Each sentence becomes a rule on an entity's action (workflows/permissions): the verb says
which action ("prescribe" makes a Prescription, "close" changes a ticket), the objects,
a field of one entity ("change stock") or the verb's noun say which entities. A rule
Shipmate cannot place is a question, never dropped: the issue was a service that let
anyone prescribe while the thread said nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from understanding.names import singular
from workflows.permissions import ADMIN, Action
from workflows.spec import EntitySpec, snake_case

CREATE, READ, UPDATE, DELETE = (Action.create,), (Action.read,), (Action.update,), (Action.delete,)
GENERIC = {
    **dict.fromkeys("create add make write enter upload".split(), CREATE),
    **dict.fromkeys("read view see list access browse".split(), READ),
    **dict.fromkeys("edit update change modify".split(), UPDATE),
    **dict.fromkeys("delete remove destroy erase purge".split(), DELETE),
    "manage": (Action.create, Action.update, Action.delete),
}
# Verbs that say which rows only through their object (or the one entity there is).
SPECIFIC = {
    **dict.fromkeys(
        "register book schedule submit post publish log issue place invite open file raise "
        "order".split(),
        CREATE,
    ),
    **dict.fromkeys(
        "close resolve approve reject assign cancel reopen complete mark archive move rename "
        "sign grade review price restock".split(),
        UPDATE,
    ),
}
VERBS = {**GENERIC, **SPECIFIC}
PARTICIPLES = {"made": "make", "written": "write", "seen": "see", "done": "do"}
# Everyone signed in: "users can create tasks" keeps nothing from anyone.
NOT_ROLES = set(
    "we you they it that which who the also user everyone anyone everybody anybody people "
    "person".split()
)
EVERY_ROW = {"anything", "everything", "all"}
BACK = {"them", "it", "those", "these"}

ROLE = r"(?!(?:can|may|must|should|will|are|is|be|and|or|the|only|not)\b)[a-z]{2,20}"
ROLES = rf"{ROLE}(?:(?:\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+){ROLE}){{0,5}}"
VERB = r"(?!(?:be|have|has|only|not|and|or|but|then|also)\b)[a-z]{2,20}"
VERB_LIST = rf"{VERB}(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|\s*/\s*){VERB}){{0,3}}"
REST = r"(?=([^.;:!?\n]*))"  # what follows, read for objects but left for the next rule
MAY = r"(?:can|may|are\s+allowed\s+to|are\s+able\s+to|get\s+to|should\s+be\s+able\s+to)"
ACTIVE = re.compile(
    rf"\b(only\s+)?({ROLES})\s+(?:(?:alone|only)\s+)?{MAY}\s+(?:only\s+)?({VERB_LIST})\b{REST}"
)
BARE = re.compile(rf"\b(only\s+)({ROLES})\s+({VERB_LIST})\b{REST}")
PRESENT = re.compile(rf"\b()({ROLES})\s+({VERB_LIST})\b{REST}")
NOUNS = r"[a-z_]+(?:(?:\s*,\s*|\s+and\s+|\s+or\s+)[a-z_]+){0,3}"
PASSIVE = re.compile(
    rf"\b({NOUNS}|(?:,\s*)?and)\s+(?:can|may|must|should|will|are|is)\s+(?:only\s+)?(?:be\s+)?"
    rf"(?:only\s+)?([a-z]+ed|made|written|seen)(?:\s+(?:or|and)\s+([a-z]+ed))?\s+"
    rf"(?:only\s+)?by\s+(?:the\s+)?({ROLES})"
)
VISIBLE = re.compile(
    rf"\b({NOUNS})\s+(?:are\s+|is\s+)?(?:only\s+)?visible\s+(?:only\s+)?to\s+({ROLES})"
)
GERUND = re.compile(
    rf"\b([a-z]+ing)\s+({NOUNS})\s*[:\-\u2013\u2014]\s*(?:only\s+({ROLES})|({ROLES})\s+only\b)"
)


@dataclass
class Rules:
    """What the request says of who may do what: by entity name, action, roles."""

    kept: dict[str, dict[Action, list[str]]] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    last: list[EntitySpec] = field(default_factory=list)  # what "them" points back to

    def keep(self, entity: str, action: Action, roles: list[str]) -> None:
        named = self.kept.setdefault(entity, {}).setdefault(action, [])
        named += [r for r in roles if r not in named]


def read_permissions(
    text: str, entities: list[EntitySpec], roles: list[str], listed: bool = False
) -> Rules:
    """The rules in `text` (lowered), on `entities`; `roles` are the service's so far,
    `listed` when the request listed them ('roles: vet, receptionist')."""
    rules = Rules(roles=list(roles))
    taken: list[tuple[int, int]] = []

    def fresh(match: re.Match) -> bool:
        span = match.span()
        if any(a < span[1] and span[0] < b for a, b in taken):
            return False
        taken.append(span)
        return True

    for pattern, known_verbs_only in ((ACTIVE, False), (BARE, True), (PRESENT, True)):
        at = 0
        while match := pattern.search(text, at):
            at = match.end()
            verbs = _verbs(match.group(3))
            if known_verbs_only and not all(v in VERBS for v in verbs):
                continue  # "only x y" and "doctors have …" are not rules
            if re.match(r"\s*(?:in|on|out)\b", match.group(4) or "") and "log" in verbs:
                continue  # "brokers log in with JWT" is signing in
            if pattern is PRESENT and _names_entity(match.group(2), entities):
                continue  # "orders list items": the subject is rows, not people
            if fresh(match):
                # "… view patients and doctors can …": the patients were read already
                at += _rule(rules, match, match.group(2), verbs, match.group(4), entities)
    for match in PASSIVE.finditer(text):
        verbs = [_infinitive(v) for v in (match.group(2), match.group(3)) if v]
        objects = "them" if match.group(1).strip(" ,") == "and" else match.group(1)
        if fresh(match):
            _rule(rules, match, match.group(4), verbs, objects, entities)
    for match in VISIBLE.finditer(text):
        if fresh(match):
            _rule(rules, match, match.group(2), ["view"], match.group(1), entities)
    for match in GERUND.finditer(text):
        verb = match.group(1)[:-3]
        verb = verb if verb in VERBS else verb + "e"
        if verb in VERBS and fresh(match):
            who = match.group(3) or match.group(4)
            _rule(rules, match, who, [verb], match.group(2), entities)
    if rules.kept and not listed and not _someone_refused(rules) and "user" not in rules.roles:
        # "only doctors …" with no roles listed: everyone else needs a role to hold; a
        # request that lists its roles gets those and no other
        rules.roles.append("user")
    return rules


def _rule(
    rules: Rules, match: re.Match, who: str, verbs: list[str], rest: str, entities: list
) -> int:
    """Reads one rule into `rules`; how many characters of `rest` its objects took."""
    said, before = match.group(0), match.string[: match.start()]
    words = re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+", who)
    roles = [singular(w) for w in words if _a_role(w, rules.roles)]
    if not roles or len(roles) < len(words):
        return 0  # "please can you …", "it can be …": nobody is named
    targets, read = _objects(rest, entities, rules, before)
    placed = False
    for verb in verbs:
        actions = VERBS.get(verb)
        made = _entity(verb, entities) if not targets else None
        if actions and targets:
            on = targets
        elif made is not None:
            on, actions = [made], CREATE  # "prescribe", "grade": make one
        elif verb in GENERIC and not rest.strip():
            on = entities  # "admins delete": every entity's rows
        elif actions and len(entities) == 1 and not rest.strip():
            on = entities  # "agents can close" with tickets alone
        else:
            continue
        for entity in on:
            for action in actions:
                rules.keep(entity.name, action, roles)
        rules.last = on
        placed = True
    if not placed:
        names = ", ".join(e.name for e in entities) or "the service's entities"
        rules.questions.append(
            f"Which rows does \u201c{said.strip()}\u201d keep to {' and '.join(roles)} "
            f"({names}), and what may only they do: create, read, update or delete?"
        )
        return 0
    rules.roles += [r for r in roles if r != ADMIN and r not in rules.roles]
    return read


def _objects(
    rest: str, entities: list[EntitySpec], rules: Rules, before: str
) -> tuple[list[EntitySpec], int]:
    """The entities the words after a verb name ('threads and replies', 'them', 'the price
    of a property', 'stock': a field of products, 'anything'), up to a word that is none;
    and how many characters they took."""
    found: list[EntitySpec] = []
    read = 0
    words = list(re.finditer(r"[a-z_]+", rest))
    for at, word in enumerate(w.group() for w in words[:8]):
        if word in (
            "the",
            "their",
            "all",
            "any",
            "a",
            "an",
            "new",
            "own",
            "other",
            "of",
            "and",
            "or",
            "every",
        ):
            continue
        if at + 1 < len(words) and words[at + 1].group() in ("can", "may", "are", "alone"):
            break  # "… patients and doctors can edit them": the next rule's people
        if word in BACK:
            found += [e for e in _back(rules, entities, before) if e not in found]
        elif word in EVERY_ROW:
            found = list(entities)
        elif (entity := _entity(word, entities) or _field_of(word, entities)) is not None:
            following = words[at + 1].group() if at + 1 < len(words) else None
            if following not in (None, "and", "or") and _entity(following, entities):
                continue  # 'berth leases': the first says whose, the second what
            if entity not in found:
                found.append(entity)
        elif at + 1 < len(words) and _entity(f"{word}_{words[at + 1].group()}", entities):
            continue  # 'maintenance requests': the next word names it with this one
        else:
            break
        read = words[at].end()
    return found, read


def _back(rules: Rules, entities: list[EntitySpec], before: str) -> list[EntitySpec]:
    """What 'them' or 'it' points back to: the last rule's rows, else the entity named
    last before it ('tickets have title … customers can open them'), else the only one."""
    if rules.last:
        return rules.last
    named = [
        (m.start(), entity)
        for entity in entities
        for word in {entity.table, snake_case(entity.name)}
        for m in re.finditer(rf"\b{re.escape(word.replace('_', ' '))}\b", before)
    ]
    if named:
        return [max(named, key=lambda found: found[0])[1]]
    return list(entities) if len(entities) == 1 else []


def _verbs(listed: str) -> list[str]:
    return [v for v in re.split(r"\s*,\s*|\s+and\s+|\s+or\s+|\s*/\s*", listed) if v]


def _a_role(word: str, known: list[str]) -> bool:
    """People are named in the plural ('only doctors'), or by a role the request lists."""
    one = singular(word)
    if word in NOT_ROLES or one in NOT_ROLES:
        return False
    return one in known or one in ("admin", "staff", "support") or (word != one and len(one) > 2)


def _names_entity(who: str, entities: list[EntitySpec]) -> bool:
    return any(_entity(w, entities) for w in re.findall(r"[a-z_]+", who))


def _infinitive(participle: str) -> str:
    if participle in PARTICIPLES:
        return PARTICIPLES[participle]
    stem = participle[:-2] if participle.endswith("ed") else participle
    for verb in (stem, stem + "e", stem[:-1]):
        if verb in VERBS:
            return verb
    return stem[:-1] + "y" if stem.endswith("i") else stem


def _entity(word: str | None, entities: list[EntitySpec]) -> EntitySpec | None:
    """The entity a word names: its own name ('tickets'), or the noun of a verb
    ('prescribe' a prescription, 'book' a booking, 'pay' a payment)."""
    if not word:
        return None
    one = singular(word)
    for entity in entities:
        name = snake_case(entity.name)
        if one in (name, name.replace("_", ""), name.split("_")[-1]) or word == entity.table:
            return entity
    for entity in entities:
        name = snake_case(entity.name)
        shared = len(_common_prefix(one, name))
        if shared >= max(3, len(one) - 2) and len(name) - shared <= 6:
            return entity
    return None


def _field_of(word: str, entities: list[EntitySpec]) -> EntitySpec | None:
    """The one entity with a field of that name: 'managers can change stock'."""
    having = [e for e in entities if any(f.name in (word, singular(word)) for f in e.fields)]
    return having[0] if len(having) == 1 else None


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _someone_refused(rules: Rules) -> bool:
    """Whether every rule refuses some role of the service (else it binds no one)."""
    return all(
        any(role not in kept and role != ADMIN for role in rules.roles)
        for actions in rules.kept.values()
        for kept in actions.values()
    )


def change_rules(data: dict, entities: dict[str, dict], clause: str, problems: list[str]) -> bool:
    """A change request's "only managers can delete orders", applied to the running spec's
    `data` and `entities` (dumped): True when the clause was such a rule (or a question
    about one). A rule replaces what the same action was kept to before."""
    specs = [EntitySpec(**entity) for entity in entities.values()]
    rules = read_permissions(clause, specs, list(data.get("roles") or []))
    if rules.questions:
        problems += rules.questions
        return True
    if not rules.kept:
        return False
    for name, actions in rules.kept.items():
        entities[name].setdefault("permissions", {}).update(actions)
    data["roles"] = rules.roles
    if data["auth"] == "none":
        data["auth"] = "jwt"  # a rule needs someone signed in to hold a role
    return True
