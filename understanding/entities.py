"""What a service manages: entities with their fields and the links between them.

Technique: a small hand-written grammar, clause by clause, rather than a parsing
library. Requests are short, half-formed chat; a formal grammar (lark, pyparsing)
rejects a whole sentence over one odd word, while these readers each take the
constructions they know and leave every other word unread, which is what lets the
thread say "I didn't use: …" instead of guessing. The readers, in order:

1. links: 'orders belong to customers', 'a customer has many orders'
2. parenthesised lists: 'vehicles (plate, make), drivers (name)', 'Book(title, isbn)'
3. entity lists: 'entities: books, members and loans'
4. heads: 'X have / has / with / containing / : a, b and c', continued after a
   semicolon or on bulleted lines
5. service nouns: 'a books API', 'API for order management', 'a projects and tasks
   API', when nothing else says what it manages or when they name several things

Each reader blanks what it consumed in a working copy, so no text is read twice.
Fields named after another entity ('customer', 'customer_id') become links last.
"""

from __future__ import annotations

import re

from understanding.fields import Choices, read_fields
from understanding.links import NP, read_links
from understanding.meaning import UNITS
from understanding.names import entity_name, singular, split_camel
from understanding.reading import Draft, Reading, Work, line_start, noun_before, take
from understanding.vocabulary import CONTROL, MODIFIERS, TYPE_WORDS
from understanding.words import Request
from workflows.spec import RelationSpec, snake_case

SERVICE_WORDS = frozenset(
    "api apis service microservice backend app application server system platform".split()
)
# Things that are made of other things: 'inventory with products and suppliers'.
COLLECTIVE = frozenset(
    "inventory shop store catalog catalogue library school clinic crm erp marketplace tracker "
    "blog forum club hotel restaurant gym bank warehouse portal hub".split()
)
HEAD = re.compile(
    r"\b(?:with the fields?|with fields?|having|have|hav|has|had|with|containing|contains|"
    r"contain|includes?|including|consisting of|fields?)\b|:|(?<=[a-z0-9_)])\s*[–—]\s*"
    r"|(?<=[a-z0-9_)])\s+-\s+"
)
# Heads after which no noun means no field list: 'Auth: none', 'DB - SQLite'.
NEEDS_NOUN = re.compile(r":|\s*[–—-]\s*")
ENTITY_LIST = re.compile(  # not an item of a field list: 'make, model, year'
    r"\b(?:entit(?:y|ies)|models?|resources?)\b(?![ \t]*,)[ \t]*"
    r"(?::|are|=|like|such as|named|called)?[ \t]*"
)
SERVICE_NOUN = re.compile(
    r"\s+(?:(?:rest|restful|graphql|grpc|crud|json|web|http)\s+)*"
    r"(?:api|service|microservice|backend|app|application|system|platform|"
    r"management|tracking|tracker|catalog(?:ue)?|directory|registry|booking|scheduling)\b"
)
ABOUT = re.compile(
    r"\b(?:for|managing|manage|manages|track|tracks|tracking|storing|stores|store|handling|"
    r"handles|handle|about|of)\s+(?:the\s+|our\s+|my\s+|all\s+|a\s+|an\s+)?"
)
MANAGING = frozenset(
    "managing manage manages track tracks tracking storing stores store handling handles "
    "handle".split()
)
WITH_ENDS = re.compile(r"\b(?:for|using|backed by|deploy\w*|that|which|where)\b")
# A parenthesis that opens with these is a note on a field, not an entity's field list.
NOTE_STARTS = (
    frozenset(
        "how must can should e eg ie i ex like long short free plain numeric number whole one "
        "either max min up only in optional required unique default defaults letter letters "
        "characters chars digits all yes no y n true false minutes seconds hours".split()
    )
    | UNITS
)
NOTE_WORDS = frozenset(TYPE_WORDS) | MODIFIERS | NOTE_STARTS | {"false", "true"}
# After a heading's colon, a capitalised thing with its own list: the heading is a title.
TITLE_OVER = re.compile(
    r"\s*(?:(?:we\s+)?need\s+an?\s+|an?\s+)?[A-Z][A-Za-z0-9]*\s*(?:entity\s+)?"
    r"(?:with\b|has\b|have\b|=|:|\(|-\s)"
)
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def read_entities(request: Request, choices: list[Choices]) -> Reading:
    work, reading = Work(request), Reading()
    read_links(work, reading, choices)
    _parenthesised(work, reading, choices)
    _entity_lists(work, reading)
    _heads(work, reading, choices)
    _service_nouns(work, reading)
    _fields_naming_entities(reading, request.arrows)
    for child in reading.link_children:
        take(work, child)
    return reading


def _clauses(text: str) -> list[tuple[int, int]]:
    """Sentences, semicolon parts and lines, outside parentheses."""
    spans, start, depth = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")" and depth > 0
        ends = char in ";\n!?" or (char == "." and (i + 1 == len(text) or text[i + 1].isspace()))
        if ends and (depth == 0 or char == "\n"):
            spans.append((start, i))
            start, depth = i + 1, 0
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _parenthesised(work: Work, reading: Reading, choices: list[Choices]) -> None:
    for match in list(re.finditer(r"\(((?:[^()]|\([^()]*\))*)\)", work.text)):
        words = re.findall(r"[a-z][a-z0-9_]*", match.group(1))
        if all(
            w in CONTROL or work.request.used_word(w, match.start(1), match.end(1)) for w in words
        ):
            continue  # 'Plant nursery shop (REST, postgres)'
        if not words or set(words) <= TYPE_WORDS.keys() | MODIFIERS | {
            "default",
            "defaults",
            "not",
            "null",
        }:
            continue  # a field's own type or modifiers
        if words[0] in ("default", "defaults", "e", "eg", "like", "ex", "i", "ie"):
            continue
        items = [re.findall(r"[a-z][a-z0-9_]*", i) for i in re.split(r",|\bor\b", match[1])]
        first = items[0]
        # '(number, amount, status)' lists fields; '(number, required, default 0)' is a note
        listed = first == ["number"] and any(not set(i) <= NOTE_WORDS for i in items[1:])
        noted = first and (first[0] in NOTE_STARTS or all(set(i) <= NOTE_WORDS for i in items))
        if noted and not listed:
            continue  # a note on a field: '(long text)', '(bool, default false)'; not '(date, …)'
        begins = line_start(work.text, match.start())
        noun = noun_before(work, match.start(), begins, skip=False, headings=True)
        if noun is None:
            continue
        plural = work.text[: match.start()].rstrip().endswith("s")
        if not ("," in match.group(1) or " and " in match.group(1) or plural or len(words) > 1):
            continue
        draft = reading.entity(*take(work, noun))
        fields = read_fields(work.request, match.start(1), match.end(1), choices, reading.problems)
        reading.file(draft, fields)
        work.blank(noun[1], match.end())


def _entity_lists(work: Work, reading: Reading) -> None:
    for match in list(ENTITY_LIST.finditer(work.text)):
        end = match.end()
        rest = re.match(r"[^.;:\n]*", work.text[end:]).group()
        if re.match(r"\s*[a-z][a-z0-9_]*\s*(?:[:(]|[-–—]\s)", work.text[end:]):
            work.request.use(match.start(), match.end())  # 'Entity Room: name, floor'
            continue
        rest = re.split(HEAD, rest)[0]
        taken_to = end
        for piece in re.finditer(r"[^,]+", rest):
            for part in re.split(r"\band\b|&", piece.group()):
                words = re.findall(r"[a-z][a-z0-9_]*", part)
                name = entity_name(words[-2:] if len(words) == 2 else words)
                if name is None:
                    break
                reading.entity(name, end + piece.start())
                taken_to = end + piece.end()
            else:
                continue
            break
        if taken_to > end:
            work.request.use(match.start(), taken_to)
            work.blank(match.start(), taken_to)


def _heads(work: Work, reading: Reading, choices: list[Choices]) -> None:
    owner: Draft | None = None
    clauses = _clauses(work.text)
    for number, (start, end) in enumerate(clauses):
        clause = work.text[start:end]
        heads = list(HEAD.finditer(clause))
        continued = BULLET.match(clause) or work.text[start - 1 : start] == ";"
        if not heads and owner is not None and continued:
            reading.file(owner, read_fields(work.request, start, end, choices, reading.problems))
            continue
        owner = None
        following = clauses[number + 1] if number + 1 < len(clauses) else None
        next_line = work.text[following[0] : following[1]] if following else ""
        if not heads and following and BULLET.match(next_line):
            if HEAD.search(next_line):
                continue  # a title over bullets that name their own things: '- Pickup: …'
            if noun := noun_before(work, end, start):  # 'products api' then '- name' lines
                owner = reading.entity(*take(work, noun))
            continue
        carried = None  # 'contacts: fields: name, …': the noun of a head with nothing after it
        for i, head in enumerate(heads):
            seg_start = start + head.end()
            seg_end = start + (heads[i + 1].start() if i + 1 < len(heads) else len(clause))
            if i + 1 < len(heads) and heads[i + 1].group() not in ("with", "fields", "field"):
                # 'with sqlite, tickets have ...': the last item names the next head's entity
                cut = list(re.finditer(r",|\band\b", work.text[seg_start:seg_end]))
                seg_end = seg_start + cut[-1].start() if cut else seg_start
            if head.group() == "with" and (stop := WITH_ENDS.search(work.text, seg_start, seg_end)):
                seg_end = stop.start()  # 'with postgres and jwt for customers and invoices'
            noun = noun_before(work, start + head.start(), start, headings=True) or carried
            nothing_after = not re.search(r"[a-z]", work.request.folded[seg_start:seg_end])
            carried = noun if nothing_after and i + 1 < len(heads) else None
            if noun is None and NEEDS_NOUN.fullmatch(head.group()):
                continue
            if head.group() == ":" and TITLE_OVER.match(work.request.text[seg_start:end]):
                continue  # 'knitting pattern catalog: Pattern with title, …' names the service
            if head.group() == "with" and _after_service_word(work, start, start + head.start()):
                # 'crm api: leads with name and email': a thing already read takes the
                # fields; 'OAuth2 login with GitHub', 'a notes api with api key auth' none
                if named := _entity_before(work, reading, start, start + head.start()):
                    owner = named
                    reading.file(
                        named,
                        read_fields(work.request, seg_start, seg_end, choices, reading.problems),
                    )
                continue
            if noun and _names_things(
                work, noun, start + head.start(), seg_start, seg_end, reading
            ):
                continue
            blank = not re.search(r"[a-z]", work.request.folded[seg_start:seg_end])
            fields = read_fields(work.request, seg_start, seg_end, choices, reading.problems)
            draft = owner
            # 'orders:' then bulleted lines of fields, not 'inventory service:' then lines
            # that name entities of their own
            listing = following and BULLET.match(work.text[following[0] : following[1]])
            listing = listing and not HEAD.search(work.text, following[0], following[1])
            last = i + 1 == len(heads) and (listing or following is None)
            if noun and (fields or blank and last and head.group() != "with"):
                draft = owner = reading.entity(*take(work, noun))
            elif noun and blank and noun[0] in [c[0] for c in reading.link_children]:
                # 'Batches: each batch is of a beer; brew date, …': a link read the words
                draft = owner = reading.entities[noun[0]]
            reading.file(draft, fields)


def _entity_before(work: Work, reading: Reading, start: int, at: int) -> Draft | None:
    """The entity the word just before `at` was read as, if any."""
    words = re.findall(r"[a-z][a-z0-9]*", work.text[start:at])
    name = entity_name(words[-1:]) if words else None
    return reading.entities.get(name) if name else None


def _after_service_word(work: Work, start: int, at: int) -> bool:
    before = list(re.finditer(r"[a-z][a-z0-9]*", work.text[start:at]))
    if not before:
        return False
    word = before[-1]
    return work.request.used(start + word.start(), start + word.end()) and word.group() not in (
        "api",
        "service",
    )


def _names_things(work: Work, noun, head_at: int, start: int, end: int, reading: Reading) -> bool:
    """'a CRM backend with contacts, companies and deals': a service phrase followed by
    plural nouns alone names entities, not fields."""
    between = re.findall(r"[a-z]+", work.text[noun[1] : head_at])
    subject = re.search(
        r"\b(?:for|about)\s+(?:managing\s+|running\s+|tracking\s+)?(?:an?\s+|the\s+|our\s+|my\s+)?$",
        work.text[: noun[1]],
    )
    collective = set(between) & SERVICE_WORDS or noun[0].lower() in COLLECTIVE
    if not collective and not subject:
        return False
    items = [i.strip() for i in re.split(r",|\band\b|&", work.text[start:end]) if i.strip()]
    plurals = [
        i for i in items if re.fullmatch(r"[a-z]+s", i) and not i.endswith(("ss", "us", "is"))
    ]
    if len(plurals) != len(items) or len(items) < (1 if set(between) & SERVICE_WORDS else 2):
        return False  # 'a greenhouse api with sensors' names one thing, the api another
    names = [entity_name([item]) for item in items]
    if None in names:
        return False  # 'with managing …': not a list of things
    for item, name in zip(items, names, strict=True):
        reading.entity(name, start + work.text[start:end].index(item))
    work.request.use(start, end)
    work.request.use(noun[1], noun[2])
    return True


def _service_nouns(work: Work, reading: Reading) -> None:
    """'a books API', 'API for order management': what the service is about, by name."""
    text = work.text
    for match in SERVICE_NOUN.finditer(text):
        found = noun_before(work, match.start() + 1, line_start(text, match.start()))
        if found:
            reading.service_nouns.append(take(work, found)[::-1])
            before = text[: found[1]]
            while more := re.search(rf"\b({NP})\s*(?:,|\band|&)\s*$", before):
                name = entity_name([more.group(1)])
                if name is None or not re.fullmatch(r"[a-z]+s", more.group(1)):
                    break
                work.request.use(more.start(1), more.end(1))
                reading.service_nouns.append((more.start(1), name))
                before = before[: more.start()]
    for match in ABOUT.finditer(text):
        rest = re.match(r"[^.;:\n(?!]*", text[match.end() :]).group()
        stop = r"\b(?:with|using|on|in|backed|deploy\w*|that|where|which|to|so|for)\b"
        rest = re.split(stop, rest)[0]
        managed = match.group().split()[0] in MANAGING
        for part in re.split(r",|\band\b|&", rest):
            begins = match.end() + rest.index(part)
            if found := noun_before(work, begins + len(part), begins):
                name, place = take(work, found)
                reading.service_nouns.append((place, name))
                work.request.use(match.start(), match.end())  # 'stores', 'for', 'managing'
                if managed and _plural_at(text, place):
                    reading.entity(name, place)  # 'to manage employees and departments'
    empty = not reading.entities
    named = {n for p, n in reading.service_nouns if _named_as_things(text, p)}
    if empty or len(named) > 1 and not reading.entities.keys() >= named:
        plurals = [(p, n) for p, n in sorted(reading.service_nouns) if _plural_at(text, p)]
        for place, name in sorted(reading.service_nouns):
            # 'an API for a dental practice to manage patients and appointments': the
            # things are the plurals; a singular alone is what the service is about
            if (place, name) in plurals or empty and not plurals:
                reading.entity(name, place)


def _named_as_things(text: str, place: int) -> bool:
    """'a projects and tasks API' names things; 'a tracker for our volunteers' names who
    it is for."""
    return not re.search(r"\bfor\s+(?:our|my|their|the|a|an)\s+$", text[:place])


def _plural_at(text: str, place: int) -> bool:
    word = re.match(r"[a-z]+", text[place:])
    return bool(word) and singular(word.group()) != word.group()


# 'belongs to a customer', 'the show it belongs to', 'the box they subscribe to': a field
# list item that names its entity in a phrase.
LINK_PHRASE = re.compile(
    r"^(?:belongs?_to|belonging_to|is_for|for|of|on|in)_(?:an?_|the_|one_)?"
    r"|_(?:it|they|he|she|this|that)_[a-z]+(?:_to|_in|_on)?$"
)


def _fields_naming_entities(reading: Reading, arrows: dict[str, str]) -> None:
    """'customer' or 'customer_id' on Order, with a Customer entity: a link, not text;
    'owner -> Person' a link to Person whatever its name."""
    for draft in list(reading.entities.values()):
        for name in [n for n in draft.fields if n in arrows]:
            if target := entity_name(split_camel(arrows[name]), heading=True):
                del draft.fields[name]
                reading.entity(target, draft.place + 1)
                draft.links.setdefault(name.removesuffix("_id"), (target, False))
    by_snake = {snake_case(name): name for name in reading.entities}
    for draft in reading.entities.values():
        for name, spec in list(draft.fields.items()):
            base = LINK_PHRASE.sub("", name.removesuffix("_id"))
            if base not in by_snake and singular(base) in by_snake:
                many = by_snake[singular(base)]  # 'buildings have units': units hold the link
                if many != draft.name and spec.type.value == "str" and not spec.unique:
                    del draft.fields[name]
                    if not any(t == many for t, _ in draft.links.values()):
                        child = reading.entities[many]
                        child.links.setdefault(snake_case(draft.name), (draft.name, False))
                    continue
            target = by_snake.get(base) or next(
                (by_snake[s] for s in by_snake if base.endswith("_" + s)), None
            )
            if target and target != draft.name and spec.type.value in ("str", "int", "uuid"):
                del draft.fields[name]
                draft.links.setdefault(base, (target, spec.required))


def relations(draft: Draft) -> list[RelationSpec]:
    return [
        RelationSpec(name=name, target=target, required=required)
        for name, (target, required) in draft.links.items()
        if name not in draft.fields
    ]
