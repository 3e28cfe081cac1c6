"""The plan language's words: how a line of a plan is cut into clauses, tokens and lists,
how an entity's fields and links are read, and how a value is quoted so it reads back as it
was. understanding/plan_language.py documents the language and reads whole plans."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from workflows.privacy import Privacy
from workflows.spec import FieldSpec, FieldType, OnDelete, RelationSpec

# A field's privacy as said (workflows/privacy.py); unsaid, its name decides.
PRIVACY_FLAGS = {
    "personal": Privacy.personal,
    "sensitive": Privacy.sensitive,
    "not-personal": Privacy.none,
}
TYPE_ALIASES = {"string": "str", "integer": "int", "boolean": "bool"}
FIELD_FLAGS = ("in", "default", "unique", "indexed", "optional", "required", *PRIVACY_FLAGS)
ARROWS = ("->", "→")
STRING = r'"(?:[^"\\]|\\.)*"?'  # an unclosed quote runs to the line's end, and is refused
WORD = r'(?:(?!->)[^\s",();→])+'  # so `customer->Customer` is three tokens
TOKEN = re.compile(rf"\s*(?:({STRING})|(->|[,();→])|({WORD}))")
BARE = re.compile(r'(?:(?!->)[^\s",();→·])+')  # a value that reads back as the word it is


class PlanLanguageError(ValueError):
    """What is wrong with a plan, and on which line (counted from 1)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def quoted(value: str) -> str:
    """A word as it is; anything else as a JSON string with invisible characters escaped."""
    if BARE.fullmatch(value) and value.isprintable():
        return value
    text = json.dumps(value, ensure_ascii=False)
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def clauses(text: str):
    """(line number, clause) for each part of each line between `·`s outside quotes."""
    for number, line in enumerate(text.splitlines(), 1):
        start = 0
        for found in re.finditer(rf"{STRING}|·", line):
            if found.group() == "·":
                yield number, line[start : found.start()]
                start = found.end()
        yield number, line[start:]


def read_field(item: list[str], line: int) -> FieldSpec:
    name, *rest = item
    kind = FieldType.str
    if rest and rest[0].lower() not in FIELD_FLAGS:
        word = rest.pop(0)
        kind = member(FieldType, TYPE_ALIASES.get(word.lower(), word), line, what="type")
    said: dict[str, object] = {}
    while rest:
        flag = rest.pop(0).lower()
        if flag not in FIELD_FLAGS:
            why = f"{name}: unknown word {flag!r}; a field takes a type, {', '.join(FIELD_FLAGS)}"
            raise PlanLanguageError(line, why)
        key = "required" if flag == "optional" else "privacy" if flag in PRIVACY_FLAGS else flag
        if key in said:
            raise PlanLanguageError(line, f"{name}: {flag} is said twice or contradicted")
        if flag == "in":
            said[key] = read_choices(rest, name, line)
        elif flag == "default":
            if not rest:
                raise PlanLanguageError(line, f"{name}: default needs a value after it")
            said[key] = read_value(rest.pop(0), line)
        elif key == "privacy":
            said[key] = PRIVACY_FLAGS[flag]
        else:
            said[key] = flag != "optional"
    return built(
        line,
        FieldSpec,
        name=name,
        type=kind,
        required=said.get("required", True),
        unique=said.get("unique", False),
        indexed=said.get("indexed", False),
        default=said.get("default"),
        choices=said.get("in", []),
        privacy=said.get("privacy"),
    )


def read_choices(rest: list[str], name: str, line: int) -> list[str]:
    """`in (a, b, c)`, or `in a/b/c` as the card writes it; takes the tokens from `rest`."""
    if rest and rest[0] not in ("(", ")", ",", ";"):
        return [read_value(word, line) for word in rest.pop(0).split("/")]
    if not rest or ")" not in rest:
        raise PlanLanguageError(line, f"{name}: choices read like: in (pending, paid)")
    close = rest.index(")")
    inside = rest[1:close]
    del rest[: close + 1]
    return [read_value(word, line) for word in word_list(inside, line)]


def read_link(item: list[str], line: int) -> RelationSpec:
    name, _, *rest = item
    if not rest:
        raise PlanLanguageError(line, f"{name} -> needs the entity it links to")
    target, said = rest.pop(0), {}
    while rest:
        flag = rest.pop(0).lower()
        if flag in ("required", "optional") and "required" not in said:
            said["required"] = flag == "required"
        elif flag == "on" and len(rest) > 1 and rest[0].lower() == "delete" and "on" not in said:
            said["on"] = member(OnDelete, rest[1], line, what="on delete")
            del rest[:2]
        else:
            why = f"{name}: unexpected {flag!r}; a link takes required, optional, on delete cascade"
            raise PlanLanguageError(line, why)
    return built(
        line,
        RelationSpec,
        name=name,
        target=target,
        required=said.get("required", False),
        on_delete=said.get("on", OnDelete.refuse),
    )


def tokenize(text: str) -> list[str]:
    """Words, `,();` and quoted text (kept in its quotes: read_value reads it)."""
    tokens, text, at = [], text.rstrip(), 0
    while at < len(text):
        found = TOKEN.match(text, at)
        tokens.append(found.group(found.lastindex))
        at = found.end()
    return tokens


def split_on(tokens: list[str], separator: str = ",") -> list[list[str]]:
    """The tokens between separators outside parentheses; empty parts are dropped."""
    parts: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        depth += {"(": 1, ")": -1}.get(token, 0)
        if token == separator and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def word_list(tokens: list[str], line: int, what: str = "a list") -> list[str]:
    """A comma-separated list of single words."""
    items = split_on(tokens)
    for item in items:
        if len(item) != 1 or item[0][0] in '"(),;':
            raise PlanLanguageError(
                line, f"{what} takes words apart by commas, not {' '.join(item)}"
            )
    return [item[0] for item in items]


def read_value(token: str, line: int) -> str:
    if not token.startswith('"'):
        return token
    try:
        return json.loads(token, strict=False)
    except ValueError:
        why = f"bad quoted text {token[:30]}: unclosed, or a bad \\ escape"
        raise PlanLanguageError(line, why) from None


def member(kind, word: str, line: int, what: str | None = None):
    """The enum member a word names, in any case."""
    try:
        return kind(word.lower())
    except ValueError:
        what = what or kind.__name__.lower()
        raise PlanLanguageError(line, f"unknown {what} {word!r}: {', '.join(kind)}") from None


def distinct(items: list, line: int) -> list:
    if twice := sorted({str(item) for item in items if items.count(item) > 1}):
        raise PlanLanguageError(line, f"{twice[0]} is listed twice")
    return items


def built(line: int, make, *args, **values):
    """`make(...)`, with a validation error turned into a PlanLanguageError on `line`."""
    try:
        return make(*args, **values)
    except ValidationError as error:
        raise PlanLanguageError(line, reason_of(error)) from None
    except ValueError as error:
        raise PlanLanguageError(line, str(error)) from None


def reason_of(error: ValidationError) -> str:
    first = error.errors()[0]
    reason = first["msg"].removeprefix("Value error, ")
    if first["type"] != "value_error" and first["loc"]:
        reason = f"{'.'.join(map(str, first['loc']))}: {reason}"
    return reason.splitlines()[0]
