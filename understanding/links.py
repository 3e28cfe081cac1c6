"""Links between entities said in words: 'orders belong to customers', 'a customer has
many orders', 'appointments are for a pet', 'every flight is flown by one pilot'.

The child holds the link to its parent (a many-to-one). Each phrase is read once and
blanked, and the child's own fields said right after it (', with a, b', ': a, b') are
read here, since the words that named the child are gone by the time the field-list
readers run.
"""

from __future__ import annotations

import re

from understanding.fields import Choices, read_fields
from understanding.names import entity_name
from understanding.reading import Reading, Work, line_start, noun_before
from understanding.vocabulary import FILLER
from workflows.spec import snake_case

NP = r"[a-z][a-z0-9_]*"
ONE = r"(?:an?\s+|the\s+|one\s+|a single\s+|exactly one\s+|its\s+|their\s+)"
LINKS = [  # the child holds the link to its parent
    rf"\b(?P<child>{NP})\s+(?:belongs?|belonging|(?:is|are) owned by|owned by)\s+"
    rf"(?:to\s+)?(?:an?\s+|the\s+|one\s+|a single\s+|exactly one\s+)?(?P<parent>{NP})"
    rf"(?:\s+and\s+(?:to\s+)?(?:an?\s+|the\s+|one\s+)?"
    rf"(?!(?:have|has|had|with|are|is|can|should|must|contains?)\b)(?P<parent2>{NP}))?",
    rf"\b(?P<parent>{NP})\s+(?:has|have|can have|contains?|owns?|holds?)\s+(?:many|multiple|"
    rf"several|a list of|lots of|one or more|zero or more|any number of)\s+"
    rf"(?P<child>{NP}(?:\s+{NP})?)",
    rf"\b(?P<child>{NP})\s+(?:references?|refers? to|points? to|(?:is|are) linked to|"
    rf"links? to|(?:is|are) tied to)\s+(?:an?\s+|the\s+|one\s+)?(?P<parent>{NP})",
    # 'appointments are for a pet', 'a comment is on a post', 'a product lives in a bin',
    # 'each batch is of a beer and sits in a tank': a preposition, then one of a thing
    rf"\b(?P<child>{NP})\s+(?:(?:is|are)\s+(?:for|on|in|of|under|inside|within|part of|"
    rf"attached to|assigned to|scheduled (?:in|at|for))|goes to|go to|"
    rf"(?:lives?|sits?|happens?|takes? place|"
    rf"(?:is|are) (?:held|stored|kept|located))\s+(?:in|at|on|inside))\s+{ONE}(?P<parent>{NP})"
    rf"(?:\s+and\s+(?:[a-z]+\s+){{0,2}}?(?:in|on|at|to|for|of)\s+{ONE}(?P<parent2>{NP}))?",
    # 'every flight is flown by one pilot with one drone', 'made by one observer'
    rf"\b(?P<child>{NP})\s+(?:is|are)\s+(?:[a-z]+ed|made|flown|written|done|run|held|taken|"
    rf"given|driven|seen|built|drawn|sent|kept)\s+(?:by|for|at|in|on)\s+{ONE}(?P<parent>{NP})"
    rf"(?:\s+(?:with|and|using|on|in|at)\s+{ONE}(?P<parent2>{NP}))?",
    # 'adoptions link an animal and an adopter', 'check-ins record the member'
    rf"\b(?P<child>{NP})\s+(?:links?|connects?|joins?|records?|pairs?|matches)\s+{ONE}"
    rf"(?P<parent>{NP})(?:\s+(?:and|with|to)\s+{ONE}(?P<parent2>{NP}))?",
]


# After a link, the child's own fields: ', with a, b', ': a, b', 'and has a, b'.
FIELDS_FOLLOW = re.compile(
    r"\s*(?:each|too|also|as well)?\s*(?:,\s*)?(?:and\s+)?(?:with|has|have|:|records?)\s+"
)


def read_links(work: Work, reading: Reading, choices: list[Choices]) -> None:
    for pattern in LINKS:
        for match in re.finditer(pattern, work.text):
            child_end = match.end("child")
            words = match.group("child").split()
            if len(words) == 2 and (words[1] in FILLER or words[1] in ("have", "has")):
                child_end = match.start("child") + len(words[0])  # 'many orders each with …'
            child = noun_before(work, child_end, line_start(work.text, child_end), skip=False)
            parent = entity_name([match.group("parent")])
            if child is None or parent is None or child[0] == parent:
                continue
            first = min(child_end, match.end("parent"))
            work.request.use(first, match.end())
            work.request.use(match.start("parent"), match.end("parent"))
            reading.entity(child[0], child[1])
            reading.link_children.append(child)
            parents = [parent]
            if match.groupdict().get("parent2"):  # 'tasks belong to projects and to users'
                parents += [p for p in [entity_name([match.group("parent2")])] if p]
            for target in parents:
                reading.entity(target, match.start("parent"))
                reading.entities[child[0]].links[snake_case(target)] = (target, False)
            work.blank(first, match.end())
            rest = work.text[match.end() :]
            if follows := FIELDS_FOLLOW.match(rest):
                # 'cleaning tasks are for one room each, with housekeeper name, …'
                start = match.end() + follows.end()
                end = start + len(re.match(r"(?:[^.;\n(]|\([^()]*\))*", rest[follows.end() :])[0])
                fields = read_fields(work.request, start, end, choices, reading.problems)
                reading.file(reading.entities[child[0]], fields)
                work.blank(match.end(), end)
                work.blank(child[1], child[2])
            elif not re.match(r"\s*,?\s*(?:and\s+)?(?:have|has|with)\b", rest):
                work.blank(child[1], child[2])  # read: no field list of its own follows
