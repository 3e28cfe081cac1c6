"""What request understanding returns: a spec, or the questions that would complete one."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError

from workflows.spec import ServiceSpec


class Choice(BaseModel):
    """A question with few answers: the thread offers them as buttons."""

    question: str
    answers: list[str]
    publishers_of: str | None = Field(
        None, description="Answered by the running services publishing this entity's changes"
    )


class PlanResult(BaseModel):
    spec: ServiceSpec | None = None
    questions: list[str] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list, description="Questions with buttons")
    defaults: list[str] = Field(default_factory=list, description="What was assumed, not read")
    notes: list[str] = Field(default_factory=list, description="e.g. a fallback that happened")
    diff: list[str] = Field(default_factory=list, description="Changes from the running version")
    mode: str | None = Field(
        None,
        description="review, optimize, integrate or elsewhere: not a build (the answer "
        "is the one question)",
    )


def questions_from_validation(exc: ValidationError) -> list[str]:
    """Each validation error is the person's to fix: say it as a correction to make."""
    questions = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        questions.append(f"{message[0].upper()}{message[1:]}. Could you correct that?")
    return questions
