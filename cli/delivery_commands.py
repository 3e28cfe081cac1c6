"""The command line's delivery commands: plan, scaffold, deliver, decide, cancel, retry, status."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from urllib.parse import quote

from cli.identity import acting_as
from shipmate import delivery_client, status_report
from shipmate.people import Directory
from shipmate.settings import Settings
from shipmate.temporal import connect
from understanding import PlanResult, understand
from workflows.access import Origin
from workflows.models import (
    DeliveryState,
    DeliveryStatus,
    GateState,
    GateStatus,
    Operation,
    StageState,
)
from workflows.spec import DeployTarget


def add_delivery_commands(commands: argparse._SubParsersAction) -> None:
    plan = commands.add_parser("plan", help="print the service spec a request parses into")
    plan.add_argument("text")
    plan.add_argument("--json", action="store_true", help="print only JSON")
    plan.add_argument("--service", help="a change to this running service")
    plan.set_defaults(handler=cmd_plan)

    scaffold = commands.add_parser("scaffold", help="write a service repository from a request")
    scaffold.add_argument("text", nargs="?", help="the request, as you would say it")
    scaffold.add_argument("--spec", type=Path, help="a spec JSON file instead of text")
    scaffold.add_argument("--out", type=Path, required=True, help="directory to write")
    scaffold.set_defaults(handler=cmd_scaffold)

    deliver = commands.add_parser("deliver", help="deliver a request, following its stages")
    deliver.add_argument("text")
    deliver.add_argument("--approve-as", metavar="USER", help="approve each gate as this user")
    deliver.add_argument(
        "--target",
        choices=["local", "aws-ecs", "none"],
        help="where to deploy, overriding the request (default: what it says, else local)",
    )
    deliver.add_argument(
        "--as", dest="requester", metavar="USER", help="only under shipmate dev: ask as USER"
    )
    deliver.add_argument("--service", help="a change to this running service")
    deliver.set_defaults(handler=cmd_deliver)

    for name, helptext in (("approve", "approve a gate"), ("reject", "reject a gate")):
        decide = commands.add_parser(name, help=helptext)
        decide.add_argument("delivery_id")
        _acting_as_option(decide)
        decide.add_argument("--env", help="environment of the gate (default: the open one)")
        decide.add_argument("--reason", default="", required=name == "reject")
        if name == "approve":
            decide.add_argument(
                "--accept-data-loss",
                action="store_true",
                help="a roll back or change that drops data: approve it, accepting the loss",
            )
        decide.set_defaults(handler=cmd_decide, approve=name == "approve")

    for name, helptext in (("cancel", "cancel a delivery"), ("retry", "retry a failed one")):
        person = commands.add_parser(name, help=helptext)
        person.add_argument("delivery_id")
        _acting_as_option(person)
        person.add_argument("--reason", default="")
        person.set_defaults(handler=cmd_cancel_or_retry, action=name)

    for name, helptext in (
        ("rollback", "put the version that served before back (gated like a deploy)"),
        ("teardown", "delete a service's environment, database included (gated)"),
    ):
        undo = commands.add_parser(name, help=helptext)
        undo.add_argument("service")
        undo.add_argument("environment")
        _acting_as_option(undo)
        operation = Operation.roll_back if name == "rollback" else Operation.tear_down
        undo.set_defaults(handler=cmd_undo, operation=operation)

    status = commands.add_parser("status", help="deliveries in flight, what is deployed where")
    status.add_argument("service", nargs="?")
    status.set_defaults(handler=cmd_status)


def _acting_as_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--as", dest="user", metavar="USER", help="default SHIPMATE_OPERATOR; others: dev only"
    )


def cmd_plan(args, settings: Settings) -> int:
    result = asyncio.run(_understand(settings, args.text, args.service))
    if args.json:
        print(
            json.dumps(
                {
                    "spec": result.spec.model_dump(mode="json") if result.spec else None,
                    "questions": result.questions,
                    "defaults": result.defaults,
                    "diff": result.diff,
                    "notes": result.notes,
                },
                indent=2,
            )
        )
        return 0 if result.spec else 2
    if result.spec:
        print(result.spec.model_dump_json(indent=2))
    for prefix, lines in (
        ("note", result.notes),
        ("default", result.defaults),
        ("change", result.diff),
        ("question", result.questions),
    ):
        for line in lines:
            print(f"{prefix}: {line}")
    return 0 if result.spec else 2


async def _understand(settings: Settings, text: str, service: str | None) -> PlanResult:
    """A new service's spec, or with --service the next version of a running one."""
    base = None
    if service:
        base = await delivery_client.current_spec(await connect(settings), service)
        if base is None:
            raise delivery_client.DecisionRefused(f"there is no service {service} yet")
    return understand(settings, [text], base)


def cmd_scaffold(args, settings: Settings) -> int:
    from pydantic import ValidationError

    from activities.scaffold.generator import write_service
    from workflows.spec import ServiceSpec

    if bool(args.text) == bool(args.spec):
        print("shipmate: give the request text or --spec FILE (one of them)", file=sys.stderr)
        return 1
    if args.spec:
        try:
            spec = ServiceSpec.model_validate_json(args.spec.read_text())
        except (OSError, ValidationError) as exc:
            reasons = exc.errors() if isinstance(exc, ValidationError) else [{"msg": str(exc)}]
            for reason in reasons:
                where = ".".join(str(p) for p in reason.get("loc", ())) or str(args.spec)
                print(f"shipmate: {where}: {reason['msg']}", file=sys.stderr)
            return 1
    else:
        result = understand(settings, [args.text])
        if result.spec is None:
            for question in result.questions:
                print(f"question: {question}", file=sys.stderr)
            return 1
        spec = result.spec
    _, files = write_service(spec, args.out)
    print(spec.model_dump_json(indent=2))
    print(f"wrote {files} files to {args.out}")
    return 0


def cmd_deliver(args, settings: Settings) -> int:
    plan = asyncio.run(_understand(settings, args.text, args.service))
    for note in plan.notes:
        print(f"note: {note}")
    if plan.spec is None:
        for question in plan.questions:
            print(f"question: {question}", file=sys.stderr)
        return 2
    requester = acting_as(settings, args.requester)
    approver = args.approve_as and acting_as(settings, args.approve_as, "--approve-as")
    for line in plan.diff:
        print(f"change: {line}")
    spec = plan.spec
    if args.target:
        deploy = spec.deploy.model_copy(update={"target": DeployTarget(args.target)})
        spec = spec.model_copy(update={"deploy": deploy})

    async def run() -> DeliveryStatus:
        client = await connect(settings)
        ticket = await delivery_client.request_change(
            client, settings, args.text, spec, requester, new_service=args.service is None
        )
        handle = client.get_workflow_handle(ticket.delivery_id)
        queued = f", queued behind {ticket.queued_behind}" if ticket.queued_behind else ""
        print(f"delivery {handle.id} started{queued}")
        print(
            f"  {settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
            f"/workflows/{quote(handle.id, safe='')}"
        )
        printed: set[str] = set()

        def on_change(status: DeliveryStatus) -> None:
            for stage in status.stages:
                key = f"{stage.name}:{stage.state}"
                if key not in printed and stage.state != StageState.pending:
                    printed.add(key)
                    took = f" ({stage.duration_seconds:.1f}s)" if stage.duration_seconds else ""
                    detail = f"  {stage.detail}" if stage.detail else ""
                    mark = delivery_client.STAGE_MARKS[stage.state]
                    print(f"  {mark} {stage.name:<16} {stage.state}{took}{detail}", flush=True)

        async def on_gate(status: DeliveryStatus, gate: GateStatus) -> None:
            if approver:
                result = await delivery_client.decide(
                    client,
                    handle.id,
                    approver,
                    gate.environment,
                    approve=True,
                    origin=Origin.cli,
                    groups=await groups_now(settings, approver),
                )
                print(f"  approved {gate.environment} as {approver}: {result.summary()}")
            else:
                print(
                    f"  waiting for approval of {gate.environment}: "
                    f"shipmate approve {handle.id} --env {gate.environment} (as an approver)"
                )

        return await delivery_client.follow(handle, on_change, on_gate)

    status = asyncio.run(run())
    return _print_outcome(status)


async def groups_now(settings: Settings, user: str) -> list[str]:
    """The user groups `user` is in, asked afresh: a group member approves through the
    groups named at the click, so one removed from a group since is refused."""
    return await Directory.for_settings(settings).groups_of(user)


def _print_outcome(status: DeliveryStatus) -> int:
    if status.state == DeliveryState.succeeded:
        for deployment in status.deployments:
            print(f"{deployment.environment}: {deployment.url}")
        if not status.deployments:
            print(f"built {status.image} (no deploy asked for)")
        return 0
    reason = f": {status.ending_reason}" if status.ending_reason else ""
    print(f"delivery {status.state}: {status.error}{reason}", file=sys.stderr)
    if status.log_tail:
        print(status.log_tail, file=sys.stderr)
    if status.state == DeliveryState.failed:
        print(
            f"fix the cause, then: shipmate retry {status.delivery_id} "
            f"(or shipmate cancel {status.delivery_id})",
            file=sys.stderr,
        )
    return 1


def cmd_decide(args, settings: Settings) -> int:
    user = acting_as(settings, args.user)

    async def run() -> GateStatus:
        client = await connect(settings)
        env = args.env
        if env is None:
            status = await delivery_client.delivery_status(
                client.get_workflow_handle(args.delivery_id)
            )
            if status is None:
                raise delivery_client.DecisionRefused(f"there is no delivery {args.delivery_id}")
            open_gates = [g.environment for g in status.gates if g.state == GateState.open]
            if not open_gates:
                raise delivery_client.DecisionRefused(f"{args.delivery_id} has no open gate")
            env = open_gates[0]
        return await delivery_client.decide(
            client,
            args.delivery_id,
            user,
            env,
            approve=args.approve,
            reason=args.reason,
            origin=Origin.cli,
            groups=await groups_now(settings, user),
            accepts_data_loss=getattr(args, "accept_data_loss", False),  # approve has it
        )

    gate = asyncio.run(run())
    print(f"{gate.environment}: {gate.summary()}")
    return 0


def cmd_cancel_or_retry(args, settings: Settings) -> int:
    user = acting_as(settings, args.user)

    async def run() -> DeliveryStatus:
        client = await connect(settings)
        groups = await groups_now(settings, user)
        if args.action == "cancel":
            return await delivery_client.cancel(
                client, args.delivery_id, user, args.reason, origin=Origin.cli, groups=groups
            )
        return await delivery_client.retry(
            client, args.delivery_id, user, origin=Origin.cli, groups=groups
        )

    status = asyncio.run(run())
    print(f"{args.delivery_id}: {args.action} accepted (was {status.state})")
    return 0


def cmd_undo(args, settings: Settings) -> int:
    user = acting_as(settings, args.user)

    async def run():
        client = await connect(settings)
        return await delivery_client.request_undo(
            client, settings, args.operation, args.service, args.environment, user
        )

    ticket = asyncio.run(run())
    print(f"{args.operation.value} {args.service} in {args.environment}: {ticket.delivery_id}")
    print(
        f"  waiting for approval: shipmate approve {ticket.delivery_id} "
        f"--env {args.environment} (as an approver)"
    )
    return 0


def cmd_status(args, settings: Settings) -> int:
    async def run() -> str:
        client = await connect(settings)
        report = await status_report.gather(client, args.service, with_pending=True)
        return status_report.render_text(report)

    print(asyncio.run(run()))
    return 0
