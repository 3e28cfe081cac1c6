"""SlackOutbox: everything Shipmate posts in a channel, sent once, in order, at Slack's pace.

One workflow per channel (id `slack-outbox/<task queue>/<channel>`), fed by signal-with-start from
the bot's replies and the worker's notify activity. It lives in Temporal because a
reply the bot has accepted must survive a restart of the bot or the worker, several
bot replicas must share one queue per channel, and one sender per channel is what
keeps Slack's pace (about a message a second) and the order within a thread.

Every message has a key. A key already sent or queued is dropped, so a redelivered
event or a retried activity posts nothing twice; a status card's key is posted once
and then edited (and posted again where an edit finds it deleted: its workflow is told
the new ts). Two lanes: posts go out in order at Slack's pace, while card edits
(another rate tier) wait in a lane of their own where a newer edit of a card replaces
the one not yet sent, so a slow edit never holds up a reply. A 429 is waited out as
long as Slack's Retry-After says, up to a deadline of minutes.

A long history rolls over (continue-as-new) with whatever is queued, waiting only for
the call in flight: the queue, the edits not yet sent and the keys already sent go
along, so nothing is lost or said twice across the roll-over. A backlog too big to
carry (past `carry_bytes`; Temporal refuses payloads over 2 MB) is stashed in the
artifact store in parts of that size and only their keys go along; the next run takes
the parts back before it sends anything, and what arrived meanwhile follows them by
the usual rules.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import activity_contracts as contracts
    from workflows.outbox_messages import (
        Backlog,
        MessageKind,
        OutboxState,
        OutgoingMessage,
        SlackCall,
        SlackSent,
    )
    from workflows.patches import (
        OUTBOX_FORGETS_STASH,
        OUTBOX_ROLLS_OVER_BUSY,
        OUTBOX_STASHES_BACKLOG,
    )
    from workflows.queues import queue_for

OUTBOX_TYPE = "SlackOutbox"
CARD_POSTED = "card_posted"  # the signal that tells a delivery where its card is
DEADLINE = timedelta(minutes=15)
PACE = timedelta(seconds=1)  # chat.postMessage: about one a second per channel
IDLE = timedelta(minutes=10)
KEEP_KEYS = 2000
KEEP_CARDS = 500
STASH_RETRY = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=30))
FORGET_RETRY = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=1))
FETCH_RETRY = RetryPolicy(
    maximum_interval=timedelta(minutes=1), non_retryable_error_types=["BacklogUnreadable"]
)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["SlackRefused"],
)


def outbox_id(task_queue: str, channel: str) -> str:
    """Per installation (its task queue) and channel: two Shipmates never share one."""
    return f"slack-outbox/{task_queue}/{channel}"


@workflow.defn(name=OUTBOX_TYPE)
class SlackOutbox:
    @workflow.init
    def __init__(self, state: OutboxState) -> None:
        self._state = state
        self._posting: str | None = None  # the key of the post in flight
        self._editing = False
        self._rolling_over = False  # the lanes take nothing new: the queue goes along
        # Decided at the start of each run: outboxes started before keep the old rules.
        self._carries_backlog = False
        self._stashes = False  # likewise: stash a backlog too big to carry
        self._held: list[OutgoingMessage] | None = None
        self._unforgotten: list[str] = []  # stashed parts taken back, not yet deleted
        self._forgetting: asyncio.Task | None = None

    @workflow.signal
    def enqueue(self, message: OutgoingMessage) -> None:
        if self._held is not None:  # the stashed backlog is being taken back
            self._held.append(message)
            return
        state, key = self._state, message.key
        if message.kind == MessageKind.card:
            if message.edit_ts and key not in state.cards:
                state.cards[key] = message.edit_ts
            if key in state.cards or key == self._posting:
                state.edits[key] = message  # the newest edit of a posted card
                return
            waiting = next((i for i, q in enumerate(state.queue) if q.key == key), None)
            if waiting is not None:
                state.queue[waiting] = message  # its first post, not sent yet: the newest
                return
        elif key in state.sent or any(q.key == key for q in state.queue):
            return
        elif self._carries_backlog and key == self._posting:
            return  # asked again while it is being sent
        state.queue.append(message)

    @workflow.query
    def waiting(self) -> int:
        return len(self._state.queue) + len(self._state.edits)

    @workflow.run
    async def run(self, state: OutboxState) -> None:
        self._carries_backlog = workflow.patched(OUTBOX_ROLLS_OVER_BUSY)
        self._stashes = workflow.patched(OUTBOX_STASHES_BACKLOG)
        taken = await self._take_back(state.stashed) if state.stashed else []
        posts, edits = (asyncio.create_task(lane()) for lane in (self._posts, self._edits))
        self._unforgotten, state.forget = [*taken, *state.forget], []
        if self._unforgotten:  # beside the lanes: housekeeping never holds up a message
            self._forgetting = asyncio.create_task(self._forget())
        while True:
            await workflow.wait_condition(lambda: not self._busy() or self._too_long())
            if self._too_long():
                if not self._carries_backlog:  # started before: rolls over once idle
                    await workflow.wait_condition(lambda: not self._busy())
                await self._roll_over()
            try:
                await workflow.wait_condition(self._busy, timeout=IDLE)
            except TimeoutError:
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._busy():
                    if self._forgetting is not None:
                        await self._forgetting  # idle: nobody waits for it
                    posts.cancel()
                    edits.cancel()
                    return  # idle: the next message starts a fresh outbox

    def _too_long(self) -> bool:
        return workflow.info().get_current_history_length() > self._state.history_limit

    async def _roll_over(self) -> None:
        """Continue as new with the backlog, once the calls in flight have ended."""
        self._rolling_over = True
        await workflow.wait_condition(lambda: not self._posting and not self._editing)
        await workflow.wait_condition(workflow.all_handlers_finished)
        state = self._state
        backlog = Backlog(outbox=workflow.info().workflow_id, queue=state.queue, edits=state.edits)
        if self._stashes and _size(backlog) > state.carry_bytes:
            state = await self._stash(backlog)
        if self._unforgotten:  # still being deleted: the next run deletes them again
            state = state.model_copy(update={"forget": [*state.forget, *self._unforgotten]})
        workflow.continue_as_new(state)

    async def _stash(self, backlog: Backlog) -> OutboxState:
        """The state to carry with the backlog stashed in parts (each an activity's payload,
        so each under `carry_bytes`): only what arrived while it was being stashed goes
        along, and the next run puts it after the stash. A store that keeps failing
        leaves the backlog carried whole."""
        keys = []
        try:
            for part in _parts(backlog, self._state.carry_bytes):
                keys.append(
                    await workflow.execute_activity(
                        contracts.stash_backlog,
                        part,
                        task_queue=queue_for("stash_backlog"),
                        start_to_close_timeout=timedelta(minutes=2),
                        retry_policy=STASH_RETRY,
                    )
                )
        except ActivityError as err:
            workflow.logger.warning("backlog carried whole, not stashed: %s", err.cause or err)
            # the parts stashed before the failure: the next run deletes them
            return self._state.model_copy(update={"forget": keys})
        stashed = {id(message) for message in backlog.queue}
        later = [message for message in self._state.queue if id(message) not in stashed]
        newer = {k: v for k, v in self._state.edits.items() if backlog.edits.get(k) is not v}
        return self._state.model_copy(update={"queue": later, "edits": newer, "stashed": keys})

    async def _take_back(self, keys: list[str]) -> list[str]:
        """The stashed backlog first, part by part, then what was carried or arrived
        since, each by the rules `enqueue` keeps (a repeat dropped, a card's newest post
        kept). A part that cannot be read within an hour is said in the log and skipped,
        so the outbox never stops for it (and is kept in the store). Returns the keys
        taken back."""
        state = self._state
        arrived, newer = state.queue, state.edits
        state.queue, state.edits, state.stashed = [], {}, []
        self._held = []  # what enqueue is told meanwhile waits: a repeat may be in a part
        taken = []
        for key in keys:
            try:
                part = await workflow.execute_activity(
                    contracts.fetch_backlog,
                    key,
                    task_queue=queue_for("fetch_backlog"),
                    start_to_close_timeout=timedelta(minutes=2),
                    schedule_to_close_timeout=timedelta(hours=1),
                    retry_policy=FETCH_RETRY,
                )
            except ActivityError as err:
                workflow.logger.warning("stashed backlog %s lost: %s", key, err.cause or err)
                continue
            state.queue += part.queue
            state.edits.update(part.edits)
            taken.append(key)
        held, self._held = self._held, None
        for message in [*arrived, *held]:
            self.enqueue(message)
        state.edits.update(newer)
        return taken  # this history holds them now

    async def _forget(self) -> None:
        """Delete the stashed parts no run will read again. A store that keeps refusing
        leaves them (said in the log); a roll-over first hands on what is not done."""
        if not workflow.patched(OUTBOX_FORGETS_STASH):
            self._unforgotten = []  # runs started before left them in the store
            return
        keys = self._unforgotten
        try:
            await workflow.execute_activity(
                contracts.forget_backlog,
                keys,
                task_queue=queue_for("forget_backlog"),
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=FORGET_RETRY,
            )
        except ActivityError as err:
            workflow.logger.warning("stashed parts %s left: %s", keys, err.cause or err)
        self._unforgotten = []

    def _busy(self) -> bool:
        state = self._state
        return bool(state.queue or state.edits or self._posting or self._editing)

    async def _posts(self) -> None:
        """Replies, announcements and first card posts, in order, at Slack's pace."""
        while True:
            await workflow.wait_condition(
                lambda: bool(self._state.queue) and not self._rolling_over
            )
            message = self._state.queue.pop(0)
            self._posting = message.key
            try:
                sent = await self._call(message, None)
                if sent is None and message.key in self._state.edits:
                    # The card never went out: its newest edit is the next first post.
                    self._state.queue.insert(0, self._state.edits.pop(message.key))
                if sent is not None and message.kind == MessageKind.card and sent.ts:
                    await self._card_at(message, sent.ts)
            finally:
                self._posting = None
            if message.private_to is None:
                await workflow.sleep(PACE)

    async def _edits(self) -> None:
        """Card edits, each card's newest only, once the card is posted."""

        def ready() -> str | None:
            return next((k for k in self._state.edits if k in self._state.cards), None)

        while True:
            await workflow.wait_condition(lambda: ready() is not None and not self._rolling_over)
            key = ready()
            message = self._state.edits.pop(key)
            self._editing = True
            try:
                was = self._state.cards[key]
                sent = await self._call(message, was)
                if sent is not None and sent.ts and sent.ts != was:
                    # The card was deleted and posted again: later edits, and the
                    # delivery's buttons, belong to the new one, which says so.
                    again = [k for k in self._state.posted_again if k != key]
                    self._state.posted_again = [*again, key][-KEEP_CARDS:]
                    await self._card_at(message, sent.ts)
            finally:
                self._editing = False

    async def _card_at(self, message: OutgoingMessage, ts: str) -> None:
        """Remember where a card is, and tell its workflow (a click counts on that card)."""
        cards = {k: v for k, v in self._state.cards.items() if k != message.key}
        self._state.cards = dict(list({**cards, message.key: ts}.items())[-KEEP_CARDS:])
        if message.reply_to:
            await self._tell(message.reply_to, ts)

    async def _call(self, message: OutgoingMessage, edit_ts: str | None) -> SlackSent | None:
        try:
            sent = await workflow.execute_activity(
                contracts.send_to_slack,
                SlackCall(
                    message=message,
                    edit_ts=edit_ts,
                    posted_again=edit_ts is not None and message.key in self._state.posted_again,
                ),
                task_queue=queue_for("send_to_slack"),
                start_to_close_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=DEADLINE,
                retry_policy=SEND_RETRY,
            )
        except ActivityError as err:
            workflow.logger.warning("gave up on %s: %s", message.key, err.cause or err)
            return None
        if message.kind == MessageKind.once:
            self._state.sent = [*self._state.sent, message.key][-KEEP_KEYS:]
        return sent

    async def _tell(self, workflow_id: str, card_ts: str) -> None:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(CARD_POSTED, card_ts)
        except Exception:  # the delivery has ended; it needs its card no more
            workflow.logger.info("%s has ended; its card is %s", workflow_id, card_ts)


def _size(backlog: Backlog) -> int:
    return len(backlog.model_dump_json().encode())


def _parts(backlog: Backlog, most: int) -> list[Backlog]:
    """The backlog cut into parts of at most `most` bytes each (a message larger than
    that on its own is a part by itself), the queue in order, then the edits."""
    parts, current = [], Backlog(outbox=backlog.outbox)
    items = [("queue", m) for m in backlog.queue] + [("edits", kv) for kv in backlog.edits.items()]
    empty = size = _size(current)
    for kind, item in items:
        message = item if kind == "queue" else item[1]
        grows = len(message.model_dump_json().encode()) + 50
        if size + grows > most and (current.queue or current.edits):
            parts.append(current)
            current, size = Backlog(outbox=backlog.outbox), empty
        if kind == "queue":
            current.queue.append(item)
        else:
            current.edits[item[0]] = item[1]
        size += grows
    return [*parts, current] if current.queue or current.edits else parts
