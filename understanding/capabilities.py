"""What Shipmate can deliver today, checked before any work starts.

The spec can name more than is built (other databases, APIs and targets are meant to
come). A request for one of those gets a question with the answers that are built,
never a service that quietly differs from what was asked, and never a failure after
the build.
"""

from __future__ import annotations

from understanding.result import Choice, PlanResult
from workflows.spec import Api, Database, DeployTarget

NOT_BUILT_DATABASES = {Database.mongodb: "MongoDB", Database.dynamodb: "DynamoDB"}


def deliverable(result: PlanResult) -> PlanResult:
    """The result, with what is not built turned into questions with buttons."""
    spec = result.spec
    if spec is None:
        return result
    asked = []
    if spec.deploy.target == DeployTarget.aws_lambda:
        asked.append(
            Choice(
                question="I can't deploy to AWS Lambda yet. Shall I run it on ECS (Fargate) "
                'instead, or on the local Docker engine? Say "on ECS" or "locally".',
                answers=["On ECS", "Locally"],
            )
        )
    if spec.database in NOT_BUILT_DATABASES:
        asked.append(
            Choice(
                question=f"I generate SQL services only, and {NOT_BUILT_DATABASES[spec.database]} "
                "isn't built yet. Shall it use PostgreSQL, MySQL or SQLite?",
                answers=["PostgreSQL", "MySQL", "SQLite"],
            )
        )
    if Api.grpc in spec.api:
        others = [api for api in spec.api if api != Api.grpc]
        if others:
            named = " and ".join("REST" if api == Api.rest else "GraphQL" for api in others)
            asked.append(
                Choice(
                    question=f"I can't make gRPC APIs yet. Shall it have {named} only?",
                    answers=[f"{named} only"],
                )
            )
        else:
            asked.append(
                Choice(
                    question="I can't make gRPC APIs yet. Shall it be REST or GraphQL?",
                    answers=["REST", "GraphQL"],
                )
            )
    if not asked:
        return result
    return result.model_copy(
        update={
            "spec": None,
            "questions": [c.question for c in asked],
            "choices": asked,
            "diff": [],
        }
    )
