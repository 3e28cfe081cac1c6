"""The `shipmate` command line: the local stack, the worker, and deliveries from a terminal."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from activities.settings import Settings, SettingsError, get_settings
from activities.understanding import PlanResult, understand
from bot import deliveries, devstack, doctor, status_report
from bot.temporal import TemporalUnavailable, connect
from workflows.models import DeliveryState, DeliveryStatus, GateStatus
from workflows.spec import DeployTarget


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
        return args.handler(args, settings) or 0
    except (SettingsError, TemporalUnavailable, devstack.PartFailed) as exc:
        print(f"shipmate: {exc}", file=sys.stderr)
        return 1
    except deliveries.DecisionRefused as exc:
        print(f"shipmate: refused: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shipmate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the whole local stack on embedded defaults")
    dev.set_defaults(handler=cmd_dev)

    check = commands.add_parser("doctor", help="check prerequisites; --fix installs them")
    check.add_argument("--fix", action="store_true")
    check.set_defaults(handler=cmd_doctor)

    emulator = commands.add_parser("emulator", help="run the local Slack emulator alone")
    emulator.add_argument("--port", type=int, help="default: SHIPMATE_EMULATOR_PORT (3000)")
    emulator.add_argument("--seed", type=Path, help="JSON file with the workspace to emulate")
    emulator.add_argument("--request-url", help="HTTP mode: POST events and clicks here")
    emulator.add_argument("--no-rate-limits", action="store_true")
    emulator.set_defaults(handler=cmd_emulator)

    bot = commands.add_parser("bot", help="run the Slack bot (Socket Mode or HTTP mode)")
    bot.set_defaults(handler=cmd_bot)

    worker = commands.add_parser("worker", help="run the Temporal worker")
    worker.set_defaults(handler=cmd_worker)

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
    deliver.add_argument("--as", dest="requester", default="cli", metavar="USER")
    deliver.add_argument("--service", help="a change to this running service")
    deliver.set_defaults(handler=cmd_deliver)

    for name, helptext in (("approve", "approve a gate"), ("reject", "reject a gate")):
        decide = commands.add_parser(name, help=helptext)
        decide.add_argument("delivery_id")
        decide.add_argument("--as", dest="user", required=True, metavar="USER")
        decide.add_argument("--env", help="environment of the gate (default: the open one)")
        decide.add_argument("--reason", default="", required=name == "reject")
        decide.set_defaults(handler=cmd_decide, approve=name == "approve")

    for name, helptext in (("cancel", "cancel a delivery"), ("retry", "retry a failed one")):
        person = commands.add_parser(name, help=helptext)
        person.add_argument("delivery_id")
        person.add_argument("--as", dest="user", required=True, metavar="USER")
        person.add_argument("--reason", default="")
        person.set_defaults(handler=cmd_cancel_or_retry, action=name)

    status = commands.add_parser("status", help="deliveries in flight, what is deployed where")
    status.add_argument("service", nargs="?")
    status.set_defaults(handler=cmd_status)
    return parser


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
        base = await deliveries.current_spec(await connect(settings), service)
        if base is None:
            raise deliveries.DecisionRefused(f"there is no service {service} yet")
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


def cmd_doctor(args, settings: Settings) -> int:
    if args.fix:
        doctor.fix(settings)
    return 0 if doctor.report(doctor.run_checks(settings)) else 1


def cmd_emulator(args, settings: Settings) -> int:
    from bot.emulator.server import EmulatorConfig, run

    if args.seed and not args.seed.is_file():
        raise SettingsError(f"--seed {args.seed}: no such file")
    run(
        EmulatorConfig(
            port=args.port or settings.emulator_port,
            seed=args.seed,
            request_url=args.request_url,
            rate_limits=not args.no_rate_limits,
        )
    )
    return 0


def cmd_bot(args, settings: Settings) -> int:
    import logging

    from bot.runner import serve

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(settings))
    return 0


def cmd_worker(args, settings: Settings) -> int:
    async def run() -> None:
        client = await connect(settings)
        with ThreadPoolExecutor(max_workers=8) as executor:
            worker = _worker(client, settings, executor)
            print(f"worker polling task queue {settings.task_queue!r}", flush=True)
            await worker.run()

    asyncio.run(run())
    return 0


def _worker(client, settings: Settings, executor: ThreadPoolExecutor):
    """Imported late: only the worker needs docker and the activities."""
    from activities.worker import build_worker

    return build_worker(client, settings, executor)


def cmd_deliver(args, settings: Settings) -> int:
    plan = asyncio.run(_understand(settings, args.text, args.service))
    for note in plan.notes:
        print(f"note: {note}")
    if plan.spec is None:
        for question in plan.questions:
            print(f"question: {question}", file=sys.stderr)
        return 2
    for line in plan.diff:
        print(f"change: {line}")
    spec = plan.spec
    if args.target:
        deploy = spec.deploy.model_copy(update={"target": DeployTarget(args.target)})
        spec = spec.model_copy(update={"deploy": deploy})

    async def run() -> DeliveryStatus:
        client = await connect(settings)
        ticket = await deliveries.request_change(client, settings, args.text, spec, args.requester)
        handle = client.get_workflow_handle(ticket.delivery_id)
        queued = f", queued behind {ticket.queued_behind}" if ticket.queued_behind else ""
        print(f"delivery {handle.id} started{queued}")
        print(
            f"  {settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
            f"/workflows/{handle.id}"
        )
        printed: set[str] = set()

        def on_change(status: DeliveryStatus) -> None:
            for stage in status.stages:
                key = f"{stage.name}:{stage.state}"
                if key not in printed and stage.state != "pending":
                    printed.add(key)
                    took = f" ({stage.duration_seconds:.1f}s)" if stage.duration_seconds else ""
                    detail = f"  {stage.detail}" if stage.detail else ""
                    mark = deliveries.STAGE_MARKS[stage.state]
                    print(f"  {mark} {stage.name:<16} {stage.state}{took}{detail}", flush=True)

        async def on_gate(status: DeliveryStatus, gate: GateStatus) -> None:
            if args.approve_as:
                result = await deliveries.decide(
                    client, handle.id, args.approve_as, gate.environment, approve=True
                )
                print(f"  approved {gate.environment} as {args.approve_as}: {result.summary()}")
            else:
                print(
                    f"  waiting for approval of {gate.environment}: "
                    f"shipmate approve {handle.id} --as USER --env {gate.environment}"
                )

        return await deliveries.follow(handle, on_change, on_gate)

    status = asyncio.run(run())
    return _print_outcome(status)


def _print_outcome(status: DeliveryStatus) -> int:
    if status.state == DeliveryState.succeeded:
        for deployment in status.deployments:
            print(f"{deployment.environment}: {deployment.url}")
        if not status.deployments:
            print(f"built {status.image} (no deploy asked for)")
        return 0
    print(f"delivery {status.state}: {status.error}", file=sys.stderr)
    if status.log_tail:
        print(status.log_tail, file=sys.stderr)
    if status.state == DeliveryState.failed:
        print(
            f"fix the cause, then: shipmate retry {status.delivery_id} --as USER "
            f"(or shipmate cancel {status.delivery_id} --as USER)",
            file=sys.stderr,
        )
    return 1


def cmd_decide(args, settings: Settings) -> int:
    async def run() -> GateStatus:
        client = await connect(settings)
        env = args.env
        if env is None:
            handle = client.get_workflow_handle(args.delivery_id)
            status = await handle.query("status", result_type=DeliveryStatus)
            open_gates = [g.environment for g in status.gates if g.state == "open"]
            if not open_gates:
                raise deliveries.DecisionRefused(f"{args.delivery_id} has no open gate")
            env = open_gates[0]
        return await deliveries.decide(
            client, args.delivery_id, args.user, env, approve=args.approve, reason=args.reason
        )

    gate = asyncio.run(run())
    print(f"{gate.environment}: {gate.summary()}")
    return 0


def cmd_cancel_or_retry(args, settings: Settings) -> int:
    async def run() -> DeliveryStatus:
        client = await connect(settings)
        if args.action == "cancel":
            return await deliveries.cancel(client, args.delivery_id, args.user, args.reason)
        return await deliveries.retry(client, args.delivery_id, args.user)

    status = asyncio.run(run())
    print(f"{args.delivery_id}: {args.action} accepted (was {status.state})")
    return 0


def cmd_status(args, settings: Settings) -> int:
    async def run() -> str:
        client = await connect(settings)
        return status_report.render_text(await status_report.gather(client, args.service))

    print(asyncio.run(run()))
    return 0


def cmd_dev(args, settings: Settings) -> int:
    """Start every part as a child process, print where each is, stop all on Ctrl-C."""
    if not doctor.docker_reachable(settings):
        raise devstack.PartFailed(
            "the Docker engine is not reachable. Fix: shipmate doctor --fix (starts dockerd)"
        )
    state = settings.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    host_port = int(settings.temporal_address.rsplit(":", 1)[1])
    print(f"Shipmate local stack (state in {state}); Ctrl-C stops it all")
    with devstack.LocalStack(echo=lambda line: print(line, flush=True), stream_logs=True) as stack:
        stack.start(devstack.temporal_part(state, host_port, settings.temporal_ui_port))
        stack.start(devstack.moto_part(settings.moto_port))
        stack.start(devstack.registry_part(state, settings.registry_port))
        stack.start(devstack.emulator_part(settings.emulator_port))
        env = devstack.dev_environment(settings)
        stack.start(devstack.worker_part(settings, env))
        stack.start(devstack.bot_part(settings, env))
        stack.echo(
            f"Ready. Open http://127.0.0.1:{settings.emulator_port}/ and write "
            "'@shipmate build a todo api' "
            'as alice; approve as bob. Or: shipmate deliver "build a todo api" '
            "--approve-as U0BOB"
        )
        _wait_for_interrupt(stack)
    return 0


def _wait_for_interrupt(stack: devstack.LocalStack) -> None:
    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.process is None or p.process.poll() is None for p in stack.parts):
            time.sleep(1)
        dead = [p.name for p in stack.parts if p.process and p.process.poll() is not None]
        print(f"shipmate: {', '.join(dead)} stopped; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)


def run() -> None:
    """The console entry point.

    Exits without interpreter teardown: the Temporal client's native threads can abort a
    finishing CLI process otherwise (temporalio/sdk-python#300), turning success into a
    crash code.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
