"""The Locust file a load test runs, in its own process (load_run.py starts it).

Locust patches the standard library with gevent when imported, so this file is only ever
loaded by `python -m locust -f`, never imported by the worker. It reads everything from
the JSON file named by SHIPMATE_LOAD_SETTINGS: the plan, the headers (which may hold a
token, hence a file and not the command line), and when to give up.

How answers count, so the report can tell the service's faults from the plan's guesses:
- 2xx/3xx: success, under the call's name ("GET /todos/{id}").
- 5xx, 429 and connection errors or timeouts: failures, under the call's name. These are
  the service failing under load, and they are what can stop the run early.
- other 4xx: counted as answered, under the name plus the status ("GET /todos/{id} [404]",
  "POST /orders [409]"): the plan guessed a value the service rightly refused (a row
  another user deleted, a unique value taken, a rule the schema does not show). Their
  time is real work the service did, but it is not an error of the service. A run where
  nearly every answer is 401/403 measures nothing, though, so that stops it too.
The status file (SHIPMATE_LOAD_SETTINGS' "status_file") holds progress for the parent's
heartbeat and, if the run was stopped early, why.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from itertools import accumulate
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, constant, events, task
from locust import stats as locust_stats
from locust.runners import LocalRunner, MasterRunner

SETTINGS_ENV = "SHIPMATE_LOAD_SETTINGS"
MAX_IDS = 1000  # ids kept per collection to pick from
REFUSED = (401, 403)

locust_stats.CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW = 2  # per-second points, not 10 s means


def _settings() -> dict:
    """Read once, then removed: the headers may hold a token, and a worker that dies
    mid-run would leave the file behind."""
    path = os.environ.get(SETTINGS_ENV)
    if not path:
        raise SystemExit(f"{SETTINGS_ENV} is not set: run this file through load_run.run_load")
    with open(path, encoding="utf-8") as file:
        settings = json.load(file)
    os.unlink(path)
    return settings


SETTINGS = _settings()
CALLS: list[dict] = SETTINGS["plan"]["calls"]
HEADERS: dict[str, str] = SETTINGS.get("headers", {})
CUM_WEIGHTS = list(accumulate(max(1, call["weight"]) for call in CALLS))
LISTS = {call["collection"]: call for call in CALLS if call["kind"] == "list"}
IDS: dict[str, list[int]] = defaultdict(list)


class Window:
    """Requests, failures and refusals per second over the last few seconds."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        self.buckets: deque[list[int]] = deque()  # [second, requests, failures, refused]
        self.reasons: deque[tuple[int, str]] = deque()
        self.total = 0

    def add(self, failed: bool, refused: bool, reason: str) -> None:
        second = int(time.monotonic())
        if not self.buckets or self.buckets[-1][0] != second:
            self.buckets.append([second, 0, 0, 0])
        bucket = self.buckets[-1]
        bucket[1] += 1
        bucket[2] += failed
        bucket[3] += refused
        self.total += 1
        if reason:
            self.reasons.append((second, reason))

    def recent(self) -> tuple[int, int, int, Counter]:
        """(requests, failures, refused, reasons) over the last `seconds`."""
        since = int(time.monotonic()) - self.seconds
        while self.buckets and self.buckets[0][0] <= since:
            self.buckets.popleft()
        while self.reasons and self.reasons[0][0] <= since:
            self.reasons.popleft()
        sums = [sum(b[i] for b in self.buckets) for i in (1, 2, 3)]
        return sums[0], sums[1], sums[2], Counter(reason for _, reason in self.reasons)

    def last_second(self) -> int:
        done = int(time.monotonic()) - 1
        return next((b[1] for b in reversed(self.buckets) if b[0] == done), 0)


WINDOW = Window(int(SETTINGS.get("window_s", 5)))


@events.request.add_listener
def _count(name, response, exception, **_kwargs) -> None:
    status = getattr(response, "status_code", 0) or 0
    reason = ""
    if exception is not None:
        reason = f"HTTP {status} on {name}" if status else f"{_error(exception)} on {name}"
    elif status in REFUSED:
        reason = f"HTTP {status} on {name}"
    WINDOW.add(exception is not None, status in REFUSED, reason)


def _error(exception: BaseException) -> str:
    """A connection error's kind, without its text (which can be long or name a proxy)."""
    return type(exception).__name__


def _write_status(path: str, status: dict) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(status, file)
    os.replace(temporary, path)


def _watch(environment) -> None:
    """Each second: report progress; stop the run if the service is failing."""
    started = time.monotonic()
    ratio = float(SETTINGS.get("max_error_ratio", 0.5))
    minimum = int(SETTINGS.get("min_requests", 50))
    path = SETTINGS["status_file"]
    parent = SETTINGS.get("parent_pid")
    while True:
        gevent.sleep(1)
        if parent and os.getppid() != parent:  # the worker died: nobody wants this run
            environment.runner.quit()
            return
        elapsed = time.monotonic() - started
        requests, failures, refused, reasons = WINDOW.recent()
        status = {"at_s": round(elapsed, 1), "rps": WINDOW.last_second(), "total": WINDOW.total}
        why = ""
        if requests >= minimum and failures / requests > ratio:
            why = f"{failures} of the last {requests} requests failed"
        elif requests >= minimum and refused / requests > ratio:
            why = (
                f"the service refused the credentials on {refused} of the last {requests} requests"
            )
        if why:
            top = ", ".join(f"{reason} ({count})" for reason, count in reasons.most_common(3))
            status["stopped"] = f"stopped after {elapsed:.0f} s: {why}, mostly {top}"
            _write_status(path, status)
            environment.runner.quit()
            return
        _write_status(path, status)


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    if isinstance(environment.runner, LocalRunner | MasterRunner):
        gevent.spawn(_watch, environment)


@events.quitting.add_listener
def _let_the_csv_catch_up(**_kwargs) -> None:
    """Locust writes its CSV files once a second: one more pass holds the final figures."""
    gevent.sleep(locust_stats.CSV_STATS_INTERVAL_SEC + 0.2)


def _remember(collection: str, answer) -> None:
    """Keep ids the service returned (a list, a page of items, or one created row)."""
    pool = IDS[collection]
    if isinstance(answer, dict) and isinstance(answer.get("items"), list):
        answer = answer["items"]
    rows = answer if isinstance(answer, list) else [answer]
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("id"), int):
            if len(pool) < MAX_IDS:
                pool.append(row["id"])
            else:
                pool[random.randrange(MAX_IDS)] = row["id"]


def _fresh(value, kind: str, max_length: int):
    token = uuid.uuid4().hex[:10]
    if kind == "uuid":
        return str(uuid.uuid4())
    if kind == "email" and isinstance(value, str) and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local}.{token}@{domain}"
    text = str(value)
    if max_length <= len(token) + 1:
        return token[:max_length]
    return f"{text[: max_length - len(token) - 1]}-{token}"


class ServiceUser(FastHttpUser):
    """Makes the plan's calls by weight, back to back."""

    wait_time = constant(0)
    connection_timeout = 10.0
    network_timeout = 30.0

    @task
    def one_call(self) -> None:
        call = random.choices(CALLS, cum_weights=CUM_WEIGHTS)[0]
        self._make(call)

    def _make(self, call: dict) -> None:
        path, query, body = call["path"], dict(call.get("query") or {}), call.get("body")
        if body is not None:
            body = dict(body)
            for field in call.get("fresh", []):
                name = field["name"]
                body[name] = _fresh(body.get(name), field["kind"], field["max_length"])
        if "{id}" in path:
            if not IDS[call["collection"]]:
                return self._seed(call["collection"])
            path = path.replace("{id}", str(random.choice(IDS[call["collection"]])))
        for ref in call.get("refs", []):
            pool = IDS[ref["collection"]]
            if not pool:
                if ref["required"] or body is None:
                    return self._seed(ref["collection"])
                continue
            if body is None:
                query[ref["name"]] = str(random.choice(pool))
            else:
                body[ref["name"]] = random.choice(pool)
        url = f"{path}?{urlencode(query)}" if query else path
        self._send(call, url, body)

    def _seed(self, collection: str) -> None:
        """No id to use yet: list the collection first, as a user would."""
        listing = LISTS.get(collection) or {
            "name": f"GET {collection}",
            "kind": "list",
            "method": "GET",
            "collection": collection,
        }
        self._send(listing, collection, None)

    def _send(self, call: dict, url: str, body) -> None:
        name = call["name"]
        with self.client.request(  # no redirects: the token goes to the target alone
            call["method"],
            url,
            name=name,
            headers=HEADERS,
            json=body,
            catch_response=True,
            allow_redirects=False,
        ) as response:
            status = response.status_code
            if status == 0:
                return  # a connection error: Locust records it as the failure it is
            if status >= 500 or status == 429:
                response.failure(f"HTTP {status}")
            elif status >= 400:
                response.request_meta["name"] = f"{name} [{status}]"
                response.success()
            else:
                response.success()
                wanted = call["kind"] == "create" or len(IDS[call["collection"]]) < MAX_IDS
                json_body = "json" in (response.headers.get("content-type") or "")
                if call["kind"] in ("list", "filter", "sort", "create") and wanted and json_body:
                    try:
                        _remember(call["collection"], response.json())
                    except ValueError:
                        pass
