"""Fields from the words people write: 'isbn (unique)', 'price decimal', 'due date',
'date_of_birth (date)', 'status: pending, paid or shipped', 'a done flag'.

A field list is split at commas, semicolons, 'and', 'plus' and new lines outside
parentheses; each item is a name of one to four words with its type and modifiers
around it. Whatever an item says that is not read stays unmarked, so it is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError

from understanding.meaning import UNITS, type_meant
from understanding.names import correct, singular
from understanding.vocabulary import CONTROL, ENVIRONMENTS, MODIFIERS, TYPE_WORDS
from understanding.words import Request
from workflows.privacy import Privacy
from workflows.spec import RESERVED_FIELD_NAMES, FieldSpec, FieldType

VALUE = r"[a-z][a-z0-9_-]*"
SEP = r"\s*(?:,\s*or\s+|,|/|\||\s+or\s+)\s*"
PHRASE = rf"{VALUE}(?:\s+{VALUE}){{0,2}}"  # 'full sun', 'partial shade', 'in progress'
# 'status: pending, paid or shipped', 'status (open/closed)', 'priority one of low,
# medium, high', 'state either draft or final'
CHOICES = re.compile(
    rf"\b(?P<name>[a-z][a-z0-9_]*)\s*"
    rf"(?:\(\s*(?:(?:one of:?|either|must be(?: one of| either)?:?|can be)\s+"
    rf"(?P<oneofparen>{VALUE}(?:{SEP}{VALUE})+)"
    rf"|(?P<paren>{VALUE}(?:\s*,\s*{VALUE})*(?:\s*[/|]\s*|,?\s+or\s+){VALUE}(?:{SEP}{VALUE})*))\s*\)"
    rf"|(?::|=|\bcan be\b|\bis\b)\s*(?P<listed>{VALUE}(?:\s*,\s*{VALUE})*,?\s+or\s+{VALUE})\b"
    rf"|\s*(?:\bone of\b|\beither\b)\s*:?\s*(?P<oneof>{VALUE}(?:{SEP}{VALUE})+)"
    rf"|\s+in\s*\(\s*(?P<inparen>{VALUE}(?:{SEP}{VALUE})+)\s*\)"  # not 'move in date, …'
    rf"|\s*(?::|=|\benum\b)?\s*(?P<slashed>{VALUE}(?:\s*[/|]\s*{VALUE})+)"
    rf"|\s*(?::|=)?\s*(?:\benum\b|\bone of\b)?\s*:?\s*[\[{{]\s*"
    rf"(?P<bracketed>{PHRASE}(?:\s*[,/|]\s*{PHRASE})+)\s*[\]}}])"
)
# 'status: draft, submitted, funded' (a name that takes choices, its values to the end of
# the clause or the parenthesis)
LISTED_TO_THE_END = re.compile(
    rf"\b(?P<name>[a-z][a-z0-9_]*)\s*:\s*(?P<values>{VALUE}(?:\s*,\s*{VALUE})+)\s*(?=[.;)\n]|$)"
)
YES_NO = re.compile(r"\(?\b(?:yes\s*/\s*no|y\s*/\s*n|true\s*/\s*false)\b\)?")
BOOLEAN_VALUES = frozenset({"yes", "no", "y", "n", "true", "false"})
LEADING = {
    "a",
    "an",
    "the",
    "its",
    "their",
    "his",
    "her",
    "each",
    "some",
    "also",
    "plus",
    "fields",
    "field",
    "columns",
    "column",
    "attributes",
    "properties",
    "short",
    "long",
    "brief",
    "detailed",
    "which",
}
# A word alone that is no field: 'each sample belongs to a study' leaves 'each'.
NO_FIELD = frozenset(
    "each every also then plus etc both all any some only them it they those these who".split()
)
TRAILING = {"using", "with", "on", "in", "via", "to", "by", "and", "then", "for", "as", "is"}
# A type word that also ends the name: 'due date' -> due_date, 'avatar url' -> avatar_url.
NAME_ENDING_TYPES = {
    "date": FieldType.date,
    "time": FieldType.datetime,
    "url": FieldType.str,
    "email": FieldType.email,
}


NAME_ENDINGS = frozenset({"on", "by", "for", "from", "until"})
AS_A_TYPE = re.compile(
    r"\s+(?:as|is)\s+(?:an?\s+)?(" + "|".join(sorted(TYPE_WORDS, key=len, reverse=True)) + r")\b"
)
ARROW = re.compile(r"[:(]?\s*(?:->|→|=>|-&gt;)\s*([a-z][a-z0-9_]*)\s*\)?")
# Words that say a type only in a note: 'size (number)', 'year (whole number)'.
NOTED_TYPES = {
    "number": FieldType.int,
    "numeric": FieldType.decimal,
    "whole": FieldType.int,
    **dict.fromkeys("minutes mins seconds secs hours days weeks count".split(), FieldType.int),
    **dict.fromkeys(UNITS, FieldType.float),  # 'trunk diameter (cm)', 'volume (ml)'
}
NUMBERS = (FieldType.int, FieldType.float)  # not money: a price "default free" is asked
NO_VALUE = frozenset("none null nil empty nothing".split())  # still asked, not made text
RANGE = re.compile(r"(?<![\w.])\d+\s*(?:-|–|to)\s*\d+(?![\w.])")


def _kind(said: list[FieldType], name: str, flag, ranged, fraction) -> FieldType:
    """The type written, else what 'yes/no', '1-5' or '37.5' say, else what the name means."""
    if said:
        return said[0]
    if flag:
        return FieldType.bool
    if fraction:
        return FieldType.decimal if type_meant(name) == FieldType.decimal else FieldType.float
    if ranged:
        return FieldType.int
    return type_meant(name)


@dataclass
class Choices:
    name: str
    values: list[str]
    start: int  # where the name starts in the request
    end: int  # where the list of values ends


def find_choices(request: Request) -> list[Choices]:
    """Every 'field: a, b or c' of the request, so no one reads its values as fields."""
    found = []
    for match in CHOICES.finditer(request.lowered):
        text = next(
            g
            for g in ("oneofparen", "paren", "listed", "oneof", "inparen", "slashed", "bracketed")
            if match.group(g)
        )
        values = [re.sub(r"\s+", "_", v.strip()) for v in re.split(SEP, match.group(text)) if v]
        end = match.end()
        while values and values[-1] in MODIFIERS:  # '(low/medium/high, optional)'
            end = match.start(text) + match.group(text).rindex(values.pop())
        if all(v in TYPE_WORDS or v in MODIFIERS for v in values) or len(values) < 2:
            continue
        if set(values) <= BOOLEAN_VALUES:
            continue  # 'perishable yes/no' is a flag
        if set(values) & CONTROL - ENVIRONMENTS.keys():
            continue  # 'over protobuf/grpc': how the service is made, not a field's values
        if (
            match.group("name") in TYPE_WORDS
            or match.group("name") in CONTROL - ENVIRONMENTS.keys()
        ):
            continue
        found.append(Choices(match.group("name"), list(dict.fromkeys(values)), match.start(), end))
    for match in [*LISTED_IN_PARENS.finditer(request.lowered), *_listed_to_the_end(request)]:
        values = [
            re.sub(r"\s+", "_", v.strip()) for v in re.split(r",|\bor\b|\||/", match["values"])
        ]
        values = [v for v in values if v]
        if any(c.start == match.start() for c in found):
            continue
        if not (_names_a_choice(match["name"]) or _choices_in_a_list(request, match, values)):
            continue
        if set(values) <= BOOLEAN_VALUES:
            continue  # 'released (y/n)' is a flag
        if all(re.fullmatch(VALUE, v) for v in values) and not set(values) & MODIFIERS:
            found.append(
                Choices(
                    match.group("name"), list(dict.fromkeys(values)), match.start(), match.end()
                )
            )
    return found


# 'status (active, pending, sold)': commas alone make choices only for names like these;
# 'vehicles (plate, make)' is an entity with its fields.
CHOICE_NAMES = frozenset(
    "status state type kind category level priority stage tier size mode visibility phase "
    "severity plan gender condition format channel source method frequency color colour".split()
)
LISTED_IN_PARENS = re.compile(
    rf"\b(?P<name>[a-z][a-z0-9_]*)\s*\(\s*(?:one of:?\s+)?"
    rf"(?P<values>{PHRASE}(?:\s*(?:,|,?\s*or\b|\||/)\s*{PHRASE})+)\s*\)"
)


def _choices_in_a_list(request: Request, match: re.Match, values: list[str]) -> bool:
    """'…, light (full sun, partial shade, shade), supplier': a singular name inside a
    field list, its values words that are no fields ('gig (venue, date, fee)' is a thing)."""
    name = match["name"]
    if singular(name) != name or name in TYPE_WORDS or name in CONTROL:
        return False
    clause = re.split(r"[.;\n]", request.lowered[: match.start()])[-1]
    if not re.search(r"[,:(]|\b(?:have|has|with)\b", clause):
        return False  # the name begins its clause: 'Vehicle (plate, make)'
    return all(
        type_meant(v) == FieldType.str and v not in MODIFIERS and v not in TYPE_WORDS
        for v in values
    )


def _listed_to_the_end(request: Request) -> list[re.Match]:
    return list(LISTED_TO_THE_END.finditer(request.lowered))


def _names_a_choice(name: str) -> bool:
    return name in CHOICE_NAMES or name.rsplit("_", 1)[-1] in CHOICE_NAMES


def read_fields(
    request: Request, start: int, end: int, choices: list[Choices], problems: list[str]
) -> list[FieldSpec]:
    """The fields written between start and end of the (masked) request."""
    fields: dict[str, FieldSpec] = {}
    text = request.lowered[:end]
    for item in re.finditer(r"(?:[^,;\n&()+]|\([^()]*\))+", text[start:end]):
        item_start, item_end = start + item.start(), start + item.end()
        for piece in re.split(r"\band\b|\bplus\b|\bas well as\b", text[item_start:item_end]):
            offset = text.index(piece, item_start) if piece else item_start
            field = _field(request, offset, offset + len(piece), choices, problems)
            if field is not None and field.name not in fields:
                fields[field.name] = field
            item_start = offset + len(piece)
    return list(fields.values())


def _field(
    request: Request, start: int, end: int, choices: list[Choices], problems: list[str]
) -> FieldSpec | None:
    text = request.lowered[start:end]
    arrow = ARROW.search(text)  # 'desk -> Desk', 'household (→ Household)', 'tree: -> Tree'
    if arrow:
        request.use(start + arrow.start(), start + arrow.end())
        text = text[: arrow.start()] + " " * (arrow.end() - arrow.start()) + text[arrow.end() :]
    said_as = AS_A_TYPE.search(text)  # 'scoville rating as an int'
    if said_as:
        text = (
            text[: said_as.start()]
            + " "
            + said_as.group(1)
            + " " * (said_as.end() - said_as.start() - len(said_as.group(1)) - 1)
            + text[said_as.end() :]
        )
    flag = YES_NO.search(text)  # 'perishable yes/no': a flag, its words no part of the name
    if flag:
        request.use(start + flag.start(), start + flag.end())
        text = text[: flag.start()] + " " * (flag.end() - flag.start()) + text[flag.end() :]
    ranged = RANGE.search(text)  # 'rating 1-5': a whole number
    fraction = re.search(r"\d+\.\d+", text)  # 'hours (e.g. 37.5)': a measure
    words = [m for m in re.finditer(r"[a-z][a-z0-9_]*|\(|\)", text)]
    in_parens, outside, inside = False, [], []
    for word in words:
        if word.group() in "()":
            in_parens = word.group() == "("
            continue
        (inside if in_parens else outside).append(word)
    # a word that configures the service ends the item: 'price using postgres'
    for i, word in enumerate(outside):
        said_elsewhere = request.used(start + word.start(), start + word.end())
        # ('login count', 'production date' name fields unless another reader took them)
        if correct(word.group()) in CONTROL and (
            word.group() not in ENVIRONMENTS.keys() | {"login"} or said_elsewhere
        ):
            outside = outside[:i]
            break
    while len(outside) > 1 and outside[0].group() in LEADING:
        outside = outside[1:]
    ending = None  # 'received on', 'booked by': the preposition is part of the name
    if len(outside) > 1 and outside[-1].group() in NAME_ENDINGS:
        ending, outside = outside[-1], outside[:-1]
    while len(outside) > 1 and outside[-1].group() in TRAILING:
        outside = outside[:-1]
    said = [w.group() for w in outside + inside]
    modifiers = {w for w in said if w in MODIFIERS} | (
        {"required"} if "not null" in text else set()
    )
    default = re.search(r"\bdefaults?(?: to| is|:|=)?\s+([a-z0-9_.@:+-]+)", text)
    name_words = [w for w in outside if w.group() not in MODIFIERS and w.group() not in TYPE_WORDS]
    kinds = [TYPE_WORDS[w] for w in said if w in TYPE_WORDS]
    leading_type = (
        len(outside) > 2 and outside[0].group() in TYPE_WORDS and outside[1].group() == "of"
    )
    if leading_type or any(w.group() in TYPE_WORDS for w in inside):
        # 'date of birth', 'employee email (email)': type words outside are the name
        name_words = [w for w in outside if w.group() not in MODIFIERS]
        kinds = [TYPE_WORDS[w.group()] for w in inside if w.group() in TYPE_WORDS] or kinds[1:]
    noted = [NOTED_TYPES[w.group()] for w in inside if w.group() in NOTED_TYPES]
    if all(w.group() in NOTED_TYPES or w.group() in MODIFIERS for w in inside):
        kinds = kinds or noted  # 'eu size (number)', 'depth (m)'; not '(e.g. 204B)'

    if default:
        name_words = [w for w in name_words if w.start() < default.start()]
    if not name_words and outside and outside[0].group() in TYPE_WORDS:
        name_words = [outside[0]]  # 'email', 'text': the type word is the name
        kinds = [TYPE_WORDS[w] for w in said[1:] if w in TYPE_WORDS] or [TYPE_WORDS[said[0]]]
    last = next((w for w in reversed(outside) if w.group() not in MODIFIERS), None)
    ends_typed = last is not None and last.group() in NAME_ENDING_TYPES
    if ends_typed and name_words and last not in name_words:
        written_whole = "_" in name_words[-1].group()  # 'check_in date', 'editor_email email'
        if not written_whole and not re.search(r"(?:^|_)(?:on|at)$", name_words[-1].group()):
            name_words.append(last)  # 'due date' -> due_date
        kinds = kinds or [NAME_ENDING_TYPES[last.group()]]
    if ending is not None and name_words and name_words[-1] is outside[-1]:
        name_words.append(ending)
    if not name_words or len(name_words) > 4:
        return None
    if any(request.used(start + w.start(), start + w.end()) for w in name_words):
        return None  # another reader took these words: a role, a database, a stack
    name = "_".join(w.group() for w in name_words)
    if name in NO_FIELD:
        return None
    if arrow:
        request.arrows[name] = arrow.group(1)
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
        return None
    for word in outside + inside:
        if word in name_words or word.group() in TYPE_WORDS or word.group() in MODIFIERS:
            request.use(start + word.start(), start + word.end())
    if default:
        request.use(start + default.start(), start + default.end())
    if name in ("id", "created_at", "updated_at"):
        return None  # every entity has them already
    if name in RESERVED_FIELD_NAMES:
        problems.append(
            f"The field name {name!r} is the API's own; pick another, e.g. {name}_value."
        )
        return None
    listed = next(
        (
            c
            for c in choices
            if (c.name == name or name.endswith("_" + c.name)) and start <= c.start < end + 2
        ),
        None,
    )  # 'shirt size (s, m, l)': the choices were found under 'size'
    kind = FieldType.str if listed else _kind(kinds, name, flag, ranged, fraction)
    # a number only guessed from the name gives way to a default in words: 'level (default
    # info)', 'priority (default high)'
    guessed = not (listed or kinds or flag or ranged or fraction) and kind in NUMBERS
    worded = default and re.fullmatch(r"[a-z]+", default[1]) and default[1] not in NO_VALUE
    for type_ in (kind, FieldType.str) if guessed and worded else (kind,):
        try:
            return FieldSpec(
                name=name,
                type=type_,
                unique="unique" in modifiers or "distinct" in modifiers,
                required=not ({"optional", "nullable"} & modifiers),
                default=request.text[start + default.start(1) : start + default.end(1)]
                if default
                else None,
                choices=listed.values if listed else [],
                privacy=_privacy_said(modifiers),
            )
        except ValidationError as exc:
            error = exc
    problems.append(str(error.errors()[0]["msg"]).removeprefix("Value error, ") + ".")
    return None


def _privacy_said(modifiers: set[str]) -> Privacy | None:
    """'ssn (sensitive)', 'phone (pii)'; None leaves it to the field's name."""
    if "sensitive" in modifiers:
        return Privacy.sensitive
    return Privacy.personal if "pii" in modifiers else None
