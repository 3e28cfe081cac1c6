"""What Shipmate can deliver today, checked before any work starts.

The spec can name more than is built (other databases, APIs and targets are meant to
come). A request for one of those gets a question or a note at once, never a service
that quietly differs from what was asked, and never a failure after the build.
"""

from __future__ import annotations

from understanding.result import PlanResult
from workflows.spec import Api, Database, DeployTarget

NOT_BUILT_DATABASES = {Database.mongodb: "MongoDB", Database.dynamodb: "DynamoDB"}


def deliverable(result: PlanResult) -> PlanResult:
    """The result, with what is not built turned into questions (or a note, for gRPC)."""
    spec = result.spec
    if spec is None:
        return result
    questions = []
    if spec.deploy.target == DeployTarget.aws_lambda:
        questions.append(
            "I can't deploy to AWS Lambda yet. Shall I run it on ECS (Fargate) instead, "
            'or on the local Docker engine? Say "on ECS" or "locally".'
        )
    if spec.database in NOT_BUILT_DATABASES:
        questions.append(
            f"I generate SQL services only, and {NOT_BUILT_DATABASES[spec.database]} isn't "
            "built yet. Shall it use PostgreSQL, MySQL or SQLite?"
        )
    others = [api for api in spec.api if api != Api.grpc]
    if not others:
        questions.append("I can't make gRPC APIs yet. Shall it be REST or GraphQL?")
    if questions:
        return result.model_copy(update={"spec": None, "questions": questions, "diff": []})
    if others != spec.api:
        names = " and ".join(api.value.upper() if api == Api.rest else "GraphQL" for api in others)
        return result.model_copy(
            update={
                "spec": spec.model_copy(update={"api": others}),
                "notes": [*result.notes, f"gRPC isn't built yet, so this has {names} only."],
            }
        )
    return result
