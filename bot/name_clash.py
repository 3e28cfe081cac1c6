"""A new request that names a service that already exists: change it, or build a new one
under another name? Asked with a button for each before anything starts.

"build an orders api with invoices" when orders-api runs with customers and orders would
otherwise become its next version, whose migration drops both tables. The answers are
said in the thread like any other (a click posts "<@U…> answered: change orders-api"), so
a restarted bot re-reading the thread finds them; they steer the plan and are not part
of what is planned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from temporalio.client import Client

from shipmate import delivery_client
from slack_views.plan import question_blocks
from understanding.result import Choice
from workflows.spec import SERVICE_NAME, ServiceSpec

MENTION = re.compile(r"<@[a-z0-9]+>")  # "@shipmate change orders-api" (lowercased)
CHANGE = re.compile(r"change ([a-z][a-z0-9-]*)")
ELSEWHERE = re.compile(r"build it as ([a-z][a-z0-9-]*)")


@dataclass(frozen=True)
class NameChoice:
    name: str
    change: bool  # True: change the service of that name; False: build under that name


def answered(thread: list[str]) -> tuple[NameChoice | None, list[str]]:
    """The last answer to the question in the thread, and the thread without the answers
    (a thread of nothing else asked nothing: its words are the request)."""
    choice, words = None, []
    for text in thread:
        said = " ".join(MENTION.sub(" ", text.lower()).split()).strip(" .!")
        if (found := CHANGE.fullmatch(said)) and SERVICE_NAME.fullmatch(found.group(1)):
            choice = NameChoice(found.group(1), change=True)
        elif (found := ELSEWHERE.fullmatch(said)) and SERVICE_NAME.fullmatch(found.group(1)):
            choice = NameChoice(found.group(1), change=False)
        else:
            words.append(text)
    return (choice, words) if words else (None, thread)


async def free_name(temporal: Client, name: str) -> str:
    """The first of orders2-api, orders3-api, … that names no service yet."""
    stem, api = (name[:-4], "-api") if name.endswith("-api") else (name, "")
    for n in range(2, 100):
        candidate = f"{stem}{n}{api}"
        if await delivery_client.current_spec(temporal, candidate) is None:
            return candidate
    return f"{stem}-new{api}"


def question(name: str, running: ServiceSpec, elsewhere: str) -> tuple[str, list]:
    """The question in words, and with its two buttons."""
    entities = ", ".join(e.name for e in running.entities)
    held = f"v{running.version}" + (f": {entities}" if entities else "")
    asked = (
        f"*{name}* already exists ({held}). Change it into what you asked for, or build a "
        f"new service under another name?"
    )
    answers = [f"change {name}", f"build it as {elsewhere}"]
    text = f"{asked}\nAnswer `{answers[0]}` or `{answers[1]}` here in the thread."
    blocks = [
        SectionBlock(text=MarkdownTextObject(text="Before I start:")),
        *question_blocks([asked], [Choice(question=asked, answers=answers)]),
    ]
    return text, blocks
