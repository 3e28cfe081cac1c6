"""Specs engineers write as structure rather than sentences, made into the lines the
entity readers take ('Room: name str, floor int').

    Room                          Machine { code: unique str, kind: washer|dryer }
      name: str                   | Instrument | asset_tag | str, unique |
      floor: int                  Slip | code (unique) | length (m) | monthly rate
      greenhouse: -> Greenhouse   room | -> Room

YAML-like blocks (a name alone or with a colon, then indented `field: type` lines),
braces, and pipe tables (an entity with its fields on one row; `entity | field | type`
rows; or a name line over `field | type` rows). A line that is none of these stays as
it was written, so sentences around a table are read as before.
"""

from __future__ import annotations

import re

from understanding.vocabulary import MODIFIERS, TYPE_WORDS

NAME = r"[A-Za-z][A-Za-z0-9_ ]{0,40}"
FIELD_LINE = re.compile(rf"^\s+(?:[-*•]\s+)?({NAME}?)\s*:\s*(.+?)\s*$")
HEAD_LINE = re.compile(r"^\s*(?:[-*•]\s+)?(?:\*\*)?([A-Z][A-Za-z0-9_]*)(?:\*\*)?\s*:?\s*$")
BRACES = re.compile(r"\b([A-Z][A-Za-z0-9_]*)\s*\{([^{}]*)\}")
EQUALS = re.compile(r"\b([A-Z][A-Za-z0-9_]*)\s*=\s*(?=[a-z][a-z0-9_ ]*(?:\([^)]*\))?\s*[,+])")
RULE_ROW = re.compile(r"^\s*\|?\s*:?-{3,}")


def flattened(text: str) -> str:
    """The text with structured specs rewritten as 'Entity: field type, …' lines."""
    text = BRACES.sub(lambda m: f"{m.group(1)}: {_items(m.group(2).split(','))}.", text)
    text = EQUALS.sub(r"\1: ", text)  # 'Tool = name, asset tag (unique)'
    if "|" in text:
        text = _tables(text)
    return _blocks(text)


def _blocks(text: str) -> str:
    """'Greenhouse:' (or 'Greenhouse') over indented 'name: str' lines -> one line."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        head = HEAD_LINE.match(lines[i])
        fields = []
        j = i + 1
        while head and j < len(lines) and (found := FIELD_LINE.match(lines[j])):
            if not lines[j].startswith((" ", "\t")):
                break
            fields.append(f"{found.group(1)}: {found.group(2)}")
            j += 1
        if head and fields:
            out.append(f"{head.group(1)}: {_items(fields)}.")
            i = j
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def _tables(text: str) -> str:
    lines, out = text.split("\n"), []
    owner = None  # a name line over 'field | type' rows
    grouped: dict[str, list[str]] = {}
    for line in lines:
        if RULE_ROW.match(line):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if _row(line) else []
        title, colon, first = cells[0].rpartition(":") if cells else ("", "", "")
        if colon and re.fullmatch(r"\s*[A-Z][A-Za-z0-9_]*", first):
            out.append(title + ":")  # 'camera traps: Camera | serial | …'
            cells[0] = first.strip()
        if len(cells) >= 2 and _header(cells):
            continue  # '| entity | field | type |'
        if len(cells) < 2:
            if grouped:
                out += [f"{e}: {_items(f)}." for e, f in grouped.items()]
                grouped = {}
            owner = line.strip() if re.fullmatch(r"[A-Z][A-Za-z0-9_]*", line.strip()) else None
            out.append(line)  # a name over rows stays too: over YAML lines it is a heading
            continue
        if owner and len(cells) == 2:
            grouped.setdefault(owner, []).append(f"{cells[0]}: {cells[1]}")
        elif (
            len(cells) == 3 and re.fullmatch(r"[A-Z][A-Za-z0-9_]*", cells[0]) and _typed(cells[2])
        ):  # '| Instrument | asset_tag | str, unique |'; else 'Camera | serial | battery pct'
            grouped.setdefault(cells[0], []).append(f"{cells[1]}: {cells[2]}")
        elif re.fullmatch(r"[A-Z][A-Za-z0-9_]*", cells[0]):
            out.append(f"{cells[0]}: {', '.join(_item(c) for c in cells[1:])}.")
        else:
            out.append(line)
    out += [f"{e}: {_items(f)}." for e, f in grouped.items()]
    return "\n".join(out)


def _row(line: str) -> bool:
    """A table row: '| a | b |' or 'a | b', not 'kind: washer|dryer' or '(fire | medical)'."""
    bare = re.sub(r"\([^()]*\)", "", line)
    return bare.lstrip().startswith("|") or " | " in bare


def _typed(cell: str) -> bool:
    words = re.findall(r"[a-z]+", cell.lower())
    return (
        bool(re.match(r"\s*(?:->|→)", cell))
        or bool(words)
        and all(w in TYPE_WORDS or w in MODIFIERS for w in words)
    )


def _header(cells: list[str]) -> bool:
    return {c.lower() for c in cells} <= {"entity", "field", "type", "name", "notes", ""}


def _items(items: list[str]) -> str:
    return ", ".join(i for i in (_item(item) for item in items) if i)


def _item(item: str) -> str:
    """'asset_tag: str, unique' -> 'asset_tag str unique'; 'kind: a|b' -> 'kind (a|b)';
    'room: -> Room' -> 'room -> Room'; anything else as written."""
    name, colon, value = item.partition(":")
    if not colon:
        return item.strip()
    name, value = name.strip(), value.strip()
    words = re.findall(r"[a-z]+", value.lower())
    if re.match(r"(?:->|→)", value):
        return f"{name} {value}"
    if words and all(w in TYPE_WORDS or w in MODIFIERS for w in words):
        if name.lower() in TYPE_WORDS:  # 'email: email' is a field named email
            return f"{name} ({' '.join(words)})"
        return f"{name} {' '.join(words)}"
    if re.search(r"[|/]", value) and not re.search(r"\s{2,}", value):
        return f"{name} ({value})"
    return f"{name} ({value})" if value else name
