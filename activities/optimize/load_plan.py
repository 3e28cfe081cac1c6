"""Which calls a load test makes, read from the service's own OpenAPI document.

A service Shipmate generated lists, filters, sorts, reads and creates rows; a load test
that only hits `GET /things` would miss the slow filter or the unindexed sort. So each
collection gets one call of each kind it offers, weighted the way real traffic leans
(reads far more than writes). Values are ones the schema accepts, so the service's
answers measure its work rather than its validation; ids are not guessed here but
picked at run time from the ids the service itself returned (see locustfile.py).
Updates and deletes are left out: a load test must not change or lose existing rows.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

# Not the service's data: sign-in, probes, the admins' audit trail and privacy requests.
SKIPPED_PREFIXES = ("/auth", "/health", "/ready", "/metrics", "/graphql", "/audit", "/privacy")
PAGING = {"offset", "limit", "skip", "page", "per_page", "page_size", "cursor"}
SORT_PARAMS = ("sort", "sort_by", "order_by", "ordering")
WEIGHTS = {"list": 4, "filter": 3, "sort": 2, "get": 4, "create": 1}
KEPT_FIRST = ("list", "get", "filter", "sort", "create")  # what goes last when capped
Kind = Literal["list", "filter", "sort", "get", "create"]


class RefField(BaseModel):
    """A value the locustfile fills at run time with an id the service returned."""

    name: str = Field(description="Body field or query parameter: 'customer_id'")
    collection: str = Field(description="Whose ids: '/customers'")
    required: bool = True


class FreshField(BaseModel):
    """A body field made different on every create, so unique columns do not refuse it."""

    name: str
    kind: Literal["text", "email", "uuid"]
    max_length: int = 255


class PlannedCall(BaseModel):
    """One call the load test makes, and the name its figures are grouped under."""

    name: str = Field(description="'GET /todos', 'GET /todos?done', 'GET /todos/{id}'")
    kind: Kind
    method: Literal["GET", "POST"]
    path: str = Field(description="'/todos' or '/todos/{id}'")
    weight: int
    collection: str = Field(description="The collection it reads or writes: '/todos'")
    query: dict[str, str] = Field(default_factory=dict)
    refs: list[RefField] = Field(default_factory=list, description="Query or body ids")
    body: dict[str, Any] | None = None
    fresh: list[FreshField] = Field(default_factory=list)


class LoadPlan(BaseModel):
    """The weighted calls of one load test; sent as JSON to the Locust subprocess."""

    calls: list[PlannedCall] = Field(default_factory=list)


def plan_calls(openapi: dict, max_calls: int = 40) -> LoadPlan:
    """Every collection's list, filter, sort, get-one and create, reads first when capped."""
    paths = openapi.get("paths") or {}
    collections = [
        path
        for path, ops in paths.items()
        if _relative(path)
        and "{" not in path
        and not _skipped(path)
        and ({"get", "post"} & set(ops))
    ]
    calls: list[PlannedCall] = []
    for path in collections:
        calls += _collection_calls(openapi, path, collections)
    if len(calls) > max_calls:
        ranked = sorted(calls, key=lambda c: KEPT_FIRST.index(c.kind))[:max_calls]
        calls = [c for c in calls if c in ranked]
    return LoadPlan(calls=calls)


def _relative(path: str) -> bool:
    """A path on the service itself: the document cannot send the load (and its token)
    anywhere else with 'http://elsewhere/…' or '//elsewhere/…'."""
    return isinstance(path, str) and path.startswith("/") and not path.startswith("//")


def _skipped(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in SKIPPED_PREFIXES)


def _collection_calls(doc: dict, path: str, collections: list[str]) -> list[PlannedCall]:
    ops = doc["paths"][path]
    found: list[PlannedCall] = []

    def call(kind: Kind, method: str, name: str, **extra: Any) -> None:
        found.append(
            PlannedCall(
                name=name,
                kind=kind,
                method=method,
                path=extra.pop("at", path),
                weight=WEIGHTS[kind],
                collection=path,
                **extra,
            )
        )

    if "get" in ops:
        call("list", "GET", f"GET {path}")
        shared = ops.get("parameters", [])  # declared once for every method of the path
        params = [_resolve(doc, p) for p in [*shared, *ops["get"].get("parameters", [])]]
        query = [p for p in params if p.get("in") == "query"]
        if picked := _filter(doc, query, collections):
            name, value, ref = picked
            if ref:
                call("filter", "GET", f"GET {path}?{name}", refs=[ref])
            else:
                call("filter", "GET", f"GET {path}?{name}", query={name: value})
        if sorted_by := _sort(doc, query):
            call("sort", "GET", f"GET {path}?sort", query=sorted_by)
    if _item_path(doc, path):
        call("get", "GET", f"GET {path}/{{id}}", at=f"{path}/{{id}}")
    if "post" in ops and (schema := _json_body(doc, ops["post"])) is not None:
        body, refs, fresh = _body(doc, schema, collections)
        call("create", "POST", f"POST {path}", body=body, refs=refs, fresh=fresh)
    return found


def _resolve(doc: dict, node: Any) -> Any:
    """Follow `$ref`s and take the non-null branch of an `anyOf` (FastAPI's Optional)."""
    for _ in range(20):
        if not isinstance(node, dict):
            return node
        if ref := node.get("$ref"):
            target: Any = doc
            for part in ref.removeprefix("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            continue
        branches = node.get("anyOf") or node.get("oneOf")
        if branches:
            real = [b for b in branches if _resolve(doc, b).get("type") != "null"]
            rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            node = {**_resolve(doc, real[0]), **rest} if real else rest
            continue
        if (parts := node.get("allOf")) and len(parts) == 1:
            node = {**_resolve(doc, parts[0]), **{k: v for k, v in node.items() if k != "allOf"}}
            continue
        return node
    return node


def _item_path(doc: dict, path: str) -> str | None:
    """`/things/{row_id}` with a GET and one path parameter, if the service has it."""
    for other, ops in doc["paths"].items():
        match = re.fullmatch(re.escape(path) + r"/\{[^/{}]+\}", other)
        if match and "get" in ops:
            return other
    return None


def _filter(
    doc: dict, params: list[dict], collections: list[str]
) -> tuple[str, str, RefField | None] | None:
    """The filter a user would most likely use: a choice, a flag, a parent, then text."""
    ranked: list[tuple[int, str, str, RefField | None]] = []
    for param in params:
        name = param.get("name", "")
        if name in PAGING or name in SORT_PARAMS or not name:
            continue
        schema = _resolve(doc, param.get("schema", {}))
        target = _referenced(name, collections) if name.endswith("_id") else None
        if target:
            ranked.append((2, name, "", RefField(name=name, collection=target, required=False)))
        elif schema.get("enum"):
            ranked.append((0, name, str(schema["enum"][0]), None))
        elif schema.get("type") == "boolean":
            ranked.append((1, name, "true", None))
        elif schema.get("type") in ("string", "integer", "number"):
            value = _example(name, schema)[0]
            rank = 3 if schema.get("type") == "string" and "format" not in schema else 4
            ranked.append((rank, name, str(value), None))
    if not ranked:
        return None
    _, name, value, ref = min(ranked, key=lambda r: r[0])
    return name, value, ref


def _sort(doc: dict, params: list[dict]) -> dict[str, str] | None:
    """Sort by a field other than the id: the order an index may be missing for."""
    for param in params:
        if param.get("name") not in SORT_PARAMS:
            continue
        choices = [str(c) for c in _resolve(doc, param.get("schema", {})).get("enum", [])]
        fields = [c for c in choices if not c.startswith("-") and c != "id"]
        if fields or choices:
            return {param["name"]: (fields or choices)[0]}
    return None


def _json_body(doc: dict, operation: dict) -> dict | None:
    content = _resolve(doc, operation.get("requestBody", {})).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return _resolve(doc, schema) if schema else None


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if re.search(r"(s|x|ch|sh)es$", word):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _referenced(field: str, collections: list[str]) -> str | None:
    """`customer_id` -> `/customers`, `order_item_id` -> `/order-items`, if listed."""
    base = field.removesuffix("_id")
    for path in collections:
        last = path.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
        if base in (last, _singular(last)):
            return path
    return None


def _body(
    doc: dict, schema: dict, collections: list[str]
) -> tuple[dict[str, Any], list[RefField], list[FreshField]]:
    body: dict[str, Any] = {}
    refs: list[RefField] = []
    fresh: list[FreshField] = []
    required = set(schema.get("required", []))
    for name, raw in (schema.get("properties") or {}).items():
        prop = _resolve(doc, raw)
        if prop.get("readOnly"):
            continue
        target = _referenced(name, collections) if name.endswith("_id") else None
        if target and prop.get("type") == "integer":
            refs.append(RefField(name=name, collection=target, required=name in required))
            continue
        value, kind = _example(name, prop)
        body[name] = value
        if kind:
            fresh.append(FreshField(name=name, kind=kind, max_length=prop.get("maxLength", 255)))
    return body, refs, fresh


TEXT_BY_NAME = {
    "name": "Ada Lovelace",
    "title": "Quarterly report",
    "label": "Front desk",
    "sku": "SKU-1042",
    "status": "active",
    "code": "A-17",
    "city": "Lisbon",
    "country": "Portugal",
    "phone": "+351 210 000 000",
}
LONG_TEXT = ("description", "notes", "note", "body", "text", "comment", "content", "memo")


def _example(name: str, schema: dict) -> tuple[Any, Literal["text", "email", "uuid"] | None]:
    """A realistic value the schema accepts, and how to make it unique per request."""
    kind = schema.get("type")
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0], None
    if "const" in schema:
        return schema["const"], None
    if kind == "boolean":
        return True, None
    if kind in ("integer", "number"):
        step = 1 if kind == "integer" else 0.01
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**31) - step) + step)
        high = schema.get("maximum", schema.get("exclusiveMaximum", 2**31 - 1 + step) - step)
        guess = 3 if any(w in name for w in ("qty", "quantity", "count")) else 42
        if kind == "number":
            return float(min(max(guess + 0.5, low), high)), None
        return int(min(max(guess, low), high)), None
    if kind == "array":
        item = _example(name, schema.get("items", {}))[0]
        return ([item] * schema.get("minItems", 0)), None
    if kind == "object":
        return {}, None
    fmt = schema.get("format", "")
    fixed = {"date": "2026-01-31", "date-time": "2026-01-31T09:30:00Z", "time": "09:30:00"}
    if fmt in fixed:
        return fixed[fmt], None
    if fmt == "uuid":
        return "6f1c2e7a-4b1d-4c55-9a0e-2d8f6b3c1a90", "uuid"
    if fmt == "email" or name.endswith("email"):
        return "ada@example.test", "email"
    if fmt in ("uri", "url") or name.endswith("url"):
        return "https://example.test/page", None
    if schema.get("examples"):
        return schema["examples"][0], None
    if name in TEXT_BY_NAME:
        text = TEXT_BY_NAME[name]
    elif any(word in name for word in LONG_TEXT):
        text = "A short note written by the load test."
    else:
        text = f"{name.replace('_', ' ')} sample"
    text = text[: schema.get("maxLength", len(text))]
    text = text.ljust(schema.get("minLength", 0), "x")
    return text, "text"
