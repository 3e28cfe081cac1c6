"""What Shipmate understood, shown before work starts: a compact spec, what it did not
use, and questions with buttons where the answers are few."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from slack_views.card import MAX_TEXT
from slack_views.text import escape
from understanding.plan_language import render
from understanding.result import Choice
from workflows.permissions import described
from workflows.privacy import Privacy
from workflows.spec import Api, Auth, EntitySpec, FieldSpec, FieldType, ServiceSpec

ANSWER = "plan_answer"  # the action id of an answer button
DATABASE_NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL", "sqlite": "SQLite"}


def spec_summary(spec: ServiceSpec) -> str:
    """One line for the service, one per entity: what a reader checks before it is built."""
    apis = " + ".join("REST" if api == Api.rest else "GraphQL" for api in spec.api)
    auth = {
        "none": "no sign-in",
        "jwt": "JWT sign-in",
        "oauth2": "OAuth2 password sign-in",
        "oidc": "sign-in through your OpenID Connect issuer",
    }[spec.auth]
    if spec.roles:
        auth += f" ({', '.join(spec.roles)})"
    where = f"{spec.deploy.target.value}: {' → '.join(spec.deploy.environments) or 'not deployed'}"
    head = " · ".join(
        [
            f"*{spec.name}*",
            apis,
            DATABASE_NAMES.get(spec.database.value, spec.database.value),
            auth,
            where,
        ]
    )
    lines = [head, *(f"• {_entity(entity)}" for entity in spec.entities)]
    if spec.auth != Auth.none:
        lines.append(_who_may(spec))
    return "\n".join(lines)


def plan_text(spec: ServiceSpec) -> str:
    """The spec in the plan language: what to copy, change and send back in the thread
    for exactly that next version (understanding.plan_language)."""
    return (
        "\n_The plan, exactly: change it and send it back in this thread for that next "
        f"version._\n```{escape(render(spec))}```"
    )


def _who_may(spec: ServiceSpec) -> str:
    """The rules the service will enforce, and what everyone else signed in may do."""
    rest = "any signed-in account reads, creates and updates; only admin deletes"
    if rules := described(spec):
        return f":lock: Only: {' · '.join(rules)}. Otherwise {rest}."
    return f":lock: {rest[0].upper()}{rest[1:]}."


def _entity(entity: EntitySpec) -> str:
    parts = [_field(field, entity.privacy_of(field)) for field in entity.fields]
    parts += [f"{r.name} → {r.target}" for r in entity.relations]
    return f"{entity.name}: {', '.join(parts)}"


def _field(field: FieldSpec, privacy: Privacy) -> str:
    flags = [] if field.type == FieldType.str or field.choices else [field.type.value]
    flags += ["/".join(field.choices)] if field.choices else []
    flags += ["unique"] if field.unique else []
    flags += [privacy.value] if privacy != Privacy.none else []  # what it must protect
    flags += [] if field.required else ["optional"]
    return field.name + (f" ({', '.join(flags)})" if flags else "")


def question_blocks(questions: list[str], choices: list[Choice]) -> list[Block]:
    """The questions in words, each with few answers followed by its buttons."""
    blocks: list[Block] = []
    offered = {choice.question: choice.answers for choice in choices}
    for number, question in enumerate(questions, 1):
        text = f"{number}. {escape(question)}"[:MAX_TEXT]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
        if answers := offered.get(question):
            blocks.append(
                ActionsBlock(
                    block_id=f"plan_question_{number}",
                    elements=[
                        ButtonElement(
                            text=answer[:75], action_id=f"{ANSWER}_{i}", value=answer[:2000]
                        )
                        for i, answer in enumerate(answers[:5])
                    ],
                )
            )
    return blocks
