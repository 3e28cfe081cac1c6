"""Deliveries that undo: roll back to what served before, and tear down an environment.

Both are deliveries like any other: queued on the service, gated by the environment's
approvers, shown on a card, cancellable and retryable. The service decides what they
act on (the rules below run in its update validator, so a refused request leaves
nothing behind); the delivery runs the steps (UndoSteps, a part of DeliveryWorkflow).

A rollback puts the previous version's image back and, with the newer version's own
migrations, the previous version's schema; a newer version whose migration dropped data
cannot be undone that way, and the deploy refuses with the reason while the live
version keeps serving. A roll back asked from a live message's button names the
delivery that message announced: it is refused once another deploy serves there.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows import search, stage_limits
    from workflows.data_loss import rollback_losses
    from workflows.deploy_steps import DeploySteps
    from workflows.event_spec import queue_suffix
    from workflows.gates import Gates
    from workflows.models import ChangeRequest, DeliveryRequest, Deployment, Operation, ServiceState
    from workflows.spec import ServiceSpec
    from workflows.stage_models import TeardownInput

KEEP_EARLIER = 10


# The service's side: what may be undone, and what it acts on.


def check_undo(state: ServiceState, change: ChangeRequest) -> None:
    env, name, verb = change.environment, state.name, change.operation.value
    if not env:
        raise ValueError(f"say which environment, e.g. `{verb} {name} in staging`")
    live = state.deployments.get(env)
    if live is None:
        deployed = ", ".join(sorted(state.deployments)) or "nowhere yet"
        raise ValueError(f"{name} is not deployed in {env} (it runs in: {deployed})")
    if change.operation != Operation.roll_back:
        return
    if change.from_delivery is not None and live.delivery_id != change.from_delivery:
        raise ValueError(
            f"{name} in {env} has changed since that message: v{live.version} serves now. "
            f"To roll that back, say `@shipmate roll back {name} in {env}`"
        )
    earlier = state.earlier.get(env) or []
    if not earlier:
        raise ValueError(
            f"{name} has run only v{live.version} in {env}: there is no earlier version to "
            "roll back to"
        )
    if _spec(state, earlier[-1].version) is None:
        raise ValueError(f"v{earlier[-1].version} of {name} is too old: its spec is not kept")


def rollback_target(state: ServiceState, env: str) -> Deployment | None:
    """What a roll back of `env` would put back now, or None when check_undo would refuse."""
    earlier = state.earlier.get(env) or []
    if env not in state.deployments or not earlier or _spec(state, earlier[-1].version) is None:
        return None
    return earlier[-1]


def check_nothing_in_flight(name: str, busy: list[str]) -> None:
    """A roll back asked from a live message acts on that deployment; with a delivery of
    the service running or queued, what serves may change first, so it waits for none."""
    if busy:
        raise ValueError(
            f"{name} has a delivery in flight (`{busy[0]}`): roll back once it has finished, "
            "or cancel it first"
        )


def undo_request(state: ServiceState, request: DeliveryRequest) -> DeliveryRequest:
    """The delivery request for a roll back or tear-down that check_undo let through."""
    env = request.environment or ""
    live = state.deployments[env]
    if request.operation == Operation.roll_back:
        target = state.earlier[env][-1]
        spec = _spec(state, target.version)
        chain = [s for s in state.specs if target.version <= s.version <= live.version]
        return request.model_copy(
            update={
                "spec": spec,
                "version": target.version,
                "live": live,
                "rollback_to": target,
                "data_loss": rollback_losses(chain) if len(chain) > 1 else [],
            }
        )
    spec = _spec(state, live.version) or state.current_spec
    return request.model_copy(update={"spec": spec, "version": live.version, "live": live})


def remember_replaced(state: ServiceState, deployment: Deployment) -> None:
    """Keep what a new deployment replaced, so it can be rolled back to; a rollback takes
    its target off that list instead, so a second rollback goes one further back."""
    env = deployment.environment
    current = state.deployments.get(env)
    if current is None or current.delivery_id == deployment.delivery_id:
        return
    earlier = list(state.earlier.get(env, []))
    if deployment.rolled_back_from is not None:
        if earlier:
            earlier.pop()
    else:
        earlier.append(current)
    state.earlier = {**state.earlier, env: earlier[-KEEP_EARLIER:]}


def forget_torn_down(state: ServiceState, environments: list[str]) -> None:
    for env in environments:
        state.deployments.pop(env, None)
        state.earlier.pop(env, None)


def _spec(state: ServiceState, version: int) -> ServiceSpec | None:
    return next((s for s in state.specs if s.version == version), None)


# The delivery's side.


class UndoSteps(DeploySteps, Gates):
    """Part of DeliveryWorkflow: a roll back or a tear-down, through the environment's gate."""

    async def _roll_back(self, request: DeliveryRequest) -> None:
        env, target, live = request.environment or "", request.rollback_to, request.live
        assert target is not None and live is not None and request.spec is not None
        spec = self._show(request, Operation.roll_back)
        status = self._delivery.status
        status.image, status.data_loss = target.image, request.data_loss
        await self._add_gates([env])
        if await self._gate(env):
            await self._deploy(
                env,
                spec,
                target.image,
                target.pushed_image or target.image,
                migrate_down_with=live.image,
                rolled_back_from=live.version,
            )

    async def _tear_down(self, request: DeliveryRequest) -> None:
        env = request.environment or ""
        spec = self._show(request, Operation.tear_down)
        teardown = TeardownInput(
            service=spec.name,
            environment=env,
            target=spec.deploy.target,
            database=spec.database,
            event_sinks=sorted({event.sink.value for event in spec.events}),
            consumer_queues=[f"{c.sink.value}:{queue_suffix(c)}" for c in spec.consumers],
        )
        status = self._delivery.status
        status.teardown_plan = await self._run_stage(
            "plan", contracts.describe_teardown, teardown, timeout=timedelta(minutes=2)
        )
        self._stage("plan").detail = "what tear-down deletes"
        await self._add_gates([env], steps=("tear down",))
        if not await self._gate(env):
            return
        removed = await self._run_stage(
            f"tear down {env}",
            contracts.tear_down_service,
            teardown,
            timeout=stage_limits.TEAR_DOWN,  # an RDS instance takes minutes to delete
            heartbeat=timedelta(seconds=60),
        )
        self._stage(f"tear down {env}").detail = removed
        status.torn_down.append(env)
        await self._report(deployments_changed=True)

    def _show(self, request: DeliveryRequest, operation: Operation) -> ServiceSpec:
        spec = request.spec
        assert spec is not None
        status = self._delivery.status
        status.operation = operation
        status.spec, status.service, status.version = spec, spec.name, spec.version
        workflow.upsert_search_attributes(
            [
                search.SERVICE.value_set(spec.name),
                search.ENVIRONMENT.value_set([request.environment or ""]),
            ]
        )
        return spec
