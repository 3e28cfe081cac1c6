"""What the entity readers share: the request being consumed, the entities read so
far, and how a phrase names the thing it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from understanding.names import entity_name, split_camel
from understanding.vocabulary import FILLER
from understanding.words import Request
from workflows.spec import FieldSpec

# Words that are filler in a sentence but an entity when written as a heading:
# 'Application: job, applicant_email', 'Flag(key unique, …)'.
HEADING_KEYS = frozenset(
    "api apis auth authentication database db env environment environments deploy roles role "
    "stack framework note notes please hi hey need build create make use formal quick".split()
)


@dataclass
class Draft:
    """An entity as read so far: fields, links and where it was first named."""

    name: str
    place: int
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    links: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name: (target, required)


@dataclass
class Reading:
    entities: dict[str, Draft] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    loose_fields: list[FieldSpec] = field(default_factory=list)  # fields with no owner named
    link_children: list[tuple[str, int, int]] = field(default_factory=list)
    service_nouns: list[tuple[int, str]] = field(default_factory=list)

    def entity(self, name: str, place: int) -> Draft:
        if name not in self.entities:
            self.entities[name] = Draft(name, place)
        draft = self.entities[name]
        draft.place = min(draft.place, place)  # listed in the order they were first named
        return draft

    def file(self, draft: Draft | None, fields: list[FieldSpec]) -> None:
        """Fields to the entity they were written for; loose when none was named."""
        for spec in fields:
            if draft is None:
                self.loose_fields.append(spec)
            else:
                draft.fields.setdefault(spec.name, spec)


class Work:
    """The lowered request with consumed spans blanked, so nothing is read twice."""

    def __init__(self, request: Request) -> None:
        self.request = request

    @property
    def text(self) -> str:
        return self.request.lowered

    def blank(self, start: int, end: int) -> None:
        self.request.blank(start, end)


# Verbs before what a service keeps: 'stores books', 'tracks shipments'.
DOING = frozenset("stores tracks manages keeps holds handles saves".split())


def noun_before(
    work: Work, end: int, start: int = 0, skip: bool = True, headings: bool = False
) -> tuple[str, int, int] | None:
    """The thing a phrase ending at `end` is about: up to two words that are not filler
    ('stock items'). With `skip`, filler, commas and words other readers took are passed
    over first ('orders, which have'); without, the noun must end the phrase. With
    `headings`, a capitalised word before ':', '(' or 'has' is a noun even if it is
    filler elsewhere ('Application: job, …', 'Track has title')."""
    tokens = list(re.finditer(r"[a-z][a-z0-9_]*|[^\sa-z0-9_]", work.text[start:end]))
    taken: list[re.Match] = []
    heading = headings and re.match(r"\s*(?:[:(]|[-–—]\s|ha(?:s|ve)\b)", work.text[end : end + 6])
    for token in reversed(tokens):
        word = token.group()
        written = work.request.text[start + token.start()]
        titled = heading and not taken and written.isupper() and word not in HEADING_KEYS
        noun = word[0].isalpha() and (word not in FILLER or titled)
        noun = noun and not work.request.used(start + token.start(), start + token.end())
        if noun and taken and word in DOING:
            break  # 'a backend that stores books': the verb is not part of the name
        if noun and len(taken) < 2:
            taken.insert(0, token)
        elif taken or not skip:
            break
        elif not (word == "," or word in FILLER or word[0].isalpha()):
            break  # other punctuation ends the phrase
    written = work.request.text
    name = entity_name(
        [w for t in taken for w in split_camel(written[start + t.start() : start + t.end()])],
        heading=bool(heading),
    )
    if name is None:
        return None
    return name, start + taken[0].start(), start + taken[-1].end()


def take(work: Work, noun: tuple[str, int, int]) -> tuple[str, int]:
    """Mark a noun read and give the entity's name and place."""
    work.request.use(noun[1], noun[2])
    return noun[0], noun[1]


def line_start(text: str, at: int) -> int:
    return max(text.rfind(mark, 0, at) for mark in "\n;:.,(") + 1
