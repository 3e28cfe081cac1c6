"""The `shipmate` command line: the local stack, the worker, and deliveries from a terminal."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path

from temporalio.service import RPCError

from cli import dev_mariadb, dev_payload_key, dev_postgres, devstack, doctor, identity
from cli.delivery_commands import add_delivery_commands
from shipmate import delivery_client, logs, telemetry, worker_versions
from shipmate.settings import Settings, SettingsError, get_settings
from shipmate.temporal import TemporalUnavailable, connect
from shipmate.worker_versions import VersioningUnavailable

log = logging.getLogger("shipmate.worker")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        # under a running `shipmate dev`, its payload key and developers unless configured
        settings = dev_payload_key.with_dev_stack_key(get_settings())
        settings = identity.with_dev_stack_developers(settings)
        return args.handler(args, settings) or 0
    except (SettingsError, TemporalUnavailable, VersioningUnavailable, devstack.PartFailed) as exc:
        print(f"shipmate: {exc}", file=sys.stderr)
        return 1
    except delivery_client.DecisionRefused as exc:
        print(f"shipmate: refused: {exc}", file=sys.stderr)
        return 1
    except RPCError as exc:  # one line, never a traceback
        print(f"shipmate: Temporal refused the call: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shipmate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the whole local stack on embedded defaults")
    dev.add_argument(
        "--fresh-slack",
        action="store_true",
        help="start the local Slack empty (it keeps its channels and threads otherwise)",
    )
    dev.set_defaults(handler=cmd_dev)

    check = commands.add_parser("doctor", help="check prerequisites; --fix installs them")
    check.add_argument("--fix", action="store_true")
    check.set_defaults(handler=cmd_doctor)

    emulator = commands.add_parser("emulator", help="run the local Slack emulator alone")
    emulator.add_argument("--port", type=int, help="default: SHIPMATE_EMULATOR_PORT (3000)")
    emulator.add_argument("--seed", type=Path, help="JSON file with the workspace to emulate")
    emulator.add_argument("--request-url", help="HTTP mode: POST events and clicks here")
    emulator.add_argument(
        "--state", type=Path, help="keep the workspace in this file (default: in memory only)"
    )
    emulator.add_argument("--no-rate-limits", action="store_true")
    emulator.set_defaults(handler=cmd_emulator)

    bot = commands.add_parser("bot", help="run the Slack bot (Socket Mode or HTTP mode)")
    bot.set_defaults(handler=cmd_bot)

    worker = commands.add_parser("worker", help="run the Temporal worker")
    worker.set_defaults(handler=cmd_worker)

    promote = commands.add_parser(
        "promote", help="send the work to this build's workers (after a rollout or a rollback)"
    )
    promote.add_argument("--wait", type=float, default=600.0, help="seconds to wait for workers")
    promote.set_defaults(handler=cmd_promote)

    codec = commands.add_parser(
        "codec-server", help="decrypt payloads for the Temporal Web UI (its codec server)"
    )
    codec.add_argument("--port", type=int, help="default: SHIPMATE_CODEC_SERVER_PORT (8234)")
    codec.add_argument(
        "--host", default="127.0.0.1", help="beyond loopback only with SHIPMATE_CODEC_SERVER_TOKEN"
    )
    codec.set_defaults(handler=cmd_codec_server)

    add_delivery_commands(commands)
    return parser


def cmd_doctor(args, settings: Settings) -> int:
    if args.fix:
        doctor.fix(settings)
    return 0 if doctor.report(doctor.run_checks(settings)) else 1


def cmd_codec_server(args, settings: Settings) -> int:
    from cli.codec_server import serve

    serve(settings, args.host, args.port or settings.codec_server_port)
    return 0


def cmd_emulator(args, settings: Settings) -> int:
    from slack_emulator.server import EmulatorConfig, run

    if args.seed and not args.seed.is_file():
        raise SettingsError(f"--seed {args.seed}: no such file")
    run(
        EmulatorConfig(
            port=args.port or settings.emulator_port,
            seed=args.seed,
            state=args.state,
            request_url=args.request_url,
            rate_limits=not args.no_rate_limits,
        )
    )
    return 0


def cmd_bot(args, settings: Settings) -> int:
    from bot.runner import serve

    logs.configure(settings)
    telemetry.setup(settings, "bot")  # traces to an OTLP endpoint if set; /metrics if a port is
    try:
        asyncio.run(serve(settings))
    finally:
        telemetry.stop()  # flushes buffered spans
    return 0


def cmd_worker(args, settings: Settings) -> int:
    logs.configure(settings)
    telemetry.setup(settings, "worker")

    async def run() -> None:
        from cli.worker import build_workers, run_until_stopped  # docker, activities

        client = await connect(settings)
        reporting = asyncio.create_task(telemetry.report_deliveries(client))  # the gauges
        workers = build_workers(client, settings)
        log.info("worker polling task queue %r", settings.task_queue)
        log.info("and its activity queues: %s", ", ".join(w.task_queue for w in workers.workers))
        if settings.worker_versioning:
            log.info("as build %s", worker_versions.build_id(settings))
        await run_until_stopped(workers)
        reporting.cancel()
        log.info("worker stopped")

    try:
        asyncio.run(run())
    finally:
        telemetry.stop()
    return 0


def cmd_promote(args, settings: Settings) -> int:
    """Make SHIPMATE_BUILD_ID (or this code's build) current once its workers poll: the
    Helm chart's hook after an install, an upgrade or a rollback."""
    build = worker_versions.build_id(settings)

    async def promote() -> None:
        client = await connect(settings)
        # the workflows queue: a queue the build has not polled yet keeps routing to the old one
        await worker_versions.make_current(
            client, settings, [settings.task_queue], wait_seconds=args.wait
        )

    asyncio.run(promote())
    print(f"build {build} of {worker_versions.deployment_name(settings)} is current")
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
    with (
        identity.running_dev_stack(settings),
        devstack.LocalStack(echo=lambda line: print(line, flush=True), stream_logs=True) as stack,
    ):
        env = devstack.dev_environment(settings)  # with the payload key, made once
        codec = settings.codec_server_port
        stack.start(
            devstack.temporal_part(
                state, host_port, settings.temporal_ui_port, f"http://127.0.0.1:{codec}"
            )
        )
        stack.start(devstack.codec_server_part(codec, env))
        stack.start(devstack.moto_part(settings.moto_port))
        stack.start(devstack.registry_part(state, settings.registry_port))
        slack_state = devstack.slack_state_file(state, fresh=args.fresh_slack)
        stack.start(devstack.emulator_part(settings.emulator_port, slack_state))
        if settings.postgres_url is None:  # deployed services get their databases here
            stack.start(dev_postgres.postgres_part(state, settings.dev_postgres_port))
            env["SHIPMATE_POSTGRES_URL"] = dev_postgres.admin_url(state, settings.dev_postgres_port)
        if settings.mysql_url is None:  # and those whose spec asks for MySQL, here
            stack.start(dev_mariadb.mariadb_part(state, settings.dev_mariadb_port))
            env["SHIPMATE_MYSQL_URL"] = dev_mariadb.admin_url(state, settings.dev_mariadb_port)
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
