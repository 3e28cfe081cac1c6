"""Every `workflow.patched` marker, named once.

A marker keeps runs that started on older code on the path they recorded while new
runs take the new one. Its life: `patched(NAME)` beside the old path; once no run
older than it can still exist, `deprecate_patch(NAME)` without the old path; once no
run carries the marker, the call goes. Deliveries live at most a gate's timeout plus
the retry window (about two days); service entities and outboxes live for ever, so
their markers stay until a continue-as-new has passed every one of them. The kept
histories in tests/workflows/histories hold each marker's old path to its promise;
a retired path's histories move to its archive folder.

Retired (`deprecate_patch`, old path gone) on 2026-12-08: REMINDER, OVERLAPPED_STAGES and
SERVICE_TOLD_IN_BACKGROUND; their calls go once no delivery started before 2026-12-10
can still be running (it would carry the deprecated marker).
"""

# Retired. Gates remind their approvers before they expire (before: they waited once).
REMINDER = "reminder"
# Delivery ids carry a random suffix, so a recreated service never reuses one (services).
UNIQUE_DELIVERY_IDS = "unique-delivery-ids"
# Retired. Tests run beside build and push (deliveries before ran them in sequence).
OVERLAPPED_STAGES = "test-beside-build"
# Retired. A delivery tells its service entity of changes in the background (before:
# each signal awaited).
SERVICE_TOLD_IN_BACKGROUND = "service-told-in-background"
# An outbox continues as new when its history is long even with a backlog, carrying it
# (before: only once idle, so a long backlog grew its history without bound), and drops
# a message asked for again while it is being sent (before: sent twice). Decided once,
# at the start of each run.
OUTBOX_ROLLS_OVER_BUSY = "outbox-rolls-over-busy"
# A change that drops a table, a column or sign-in names the loss on its card and opens
# its gates only to an approver who confirms it (deliveries before made it silently).
CHANGE_LOSSES = "change-losses"
# A delivery's gates go by the rules its worker looks up, and a requester the worker's
# settings do not allow is refused (deliveries before went by the rules their caller sent).
RULES_FROM_WORKER = "rules-from-worker"
# An outbox whose backlog is too big to carry through continue-as-new stashes it in the
# artifact store and carries its key (before: carried it all, failing past 2 MB).
OUTBOX_STASHES_BACKLOG = "outbox-stashes-backlog"
# An outbox deletes the stashed parts it took back, and those of a stash that failed
# half-way (before: they stayed in the artifact store for good).
OUTBOX_FORGETS_STASH = "outbox-forgets-stash"
