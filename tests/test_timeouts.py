"""Every subprocess and network call in Shipmate's own code has a timeout.

A worker blocked for ever in a call (a hung `git fetch`, a registry that accepts the
connection and never answers) heartbeats on from its thread beside the stage, so
Temporal never hands the stage to another worker: the README promises that every
subprocess (git, pip, ruff, debootstrap) and network call has a timeout. The code is
read as Python syntax trees, so a call that loses its timeout fails here, naming it.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "workflows", "activities", "cli", "shipmate", "understanding", "slack_views")

# Calls that wait for a child process, or for a server, for as long as it takes unless
# given a timeout: the keyword that bounds each one, and its position when passed
# positionally (None: keyword only).
SUBPROCESS_RUNS = {"run", "call", "check_call", "check_output"}
REQUESTS_CALLS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
NEEDS = {
    **{("subprocess", name): ("timeout", None) for name in SUBPROCESS_RUNS},
    **{("requests", name): ("timeout", None) for name in REQUESTS_CALLS},
    ("urllib.request", "urlopen"): ("timeout", 2),
    ("socket", "create_connection"): ("timeout", 1),
    ("http.client", "HTTPConnection"): ("timeout", 2),
    ("http.client", "HTTPSConnection"): ("timeout", 2),
    ("psycopg", "connect"): ("connect_timeout", None),
    ("psycopg2", "connect"): ("connect_timeout", None),
    ("pymysql", "connect"): ("connect_timeout", None),
}
PROCESS_WAITS = {"wait": 0, "communicate": 1}  # Popen methods: position of `timeout`


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value)):
        return f"{base}.{node.attr}"
    return None


def _has(call: ast.Call, keyword: str, position: int | None) -> bool:
    if any(k.arg == keyword or k.arg is None for k in call.keywords):  # **options: trust it
        return True
    return position is not None and len(call.args) > position


def _aliases(tree: ast.Module) -> dict[str, tuple[str, str] | str]:
    """Local names for the modules and functions above: `import subprocess as sp`,
    `from subprocess import run`, `from urllib.request import urlopen`."""
    modules = {module for module, _ in NEEDS} | {"httpx", "asyncio"}
    names: dict[str, tuple[str, str] | str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module in modules:
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
    return names


def _target(call: ast.Call, names: dict) -> tuple[str, str] | None:
    """(module, function) a call reaches, if it is one of the modules above."""
    func = call.func
    if isinstance(func, ast.Name) and isinstance(names.get(func.id), tuple):
        return names[func.id]
    dotted = _dotted(func)
    if dotted and "." in dotted:
        base, _, attr = dotted.rpartition(".")
        module = names.get(base, base if base in ("urllib.request", "http.client") else None)
        if isinstance(module, str):
            return module, attr
    return None


def _last_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _processes(tree: ast.Module, names: dict) -> set[str]:
    """Names (or attributes) that hold a child process: assigned a Popen, annotated as
    one, or the process asyncio starts."""

    def is_process(value: ast.AST | None) -> bool:
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return False
        target = _target(value, names)
        return target in {
            ("subprocess", "Popen"),
            ("asyncio", "create_subprocess_exec"),
            ("asyncio", "create_subprocess_shell"),
        }

    held = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and is_process(node.value):
            held |= {n for t in node.targets if (n := _last_name(t))}
        elif isinstance(node, ast.AnnAssign) and (
            is_process(node.value) or "Popen" in ast.unparse(node.annotation)
        ):
            if name := _last_name(node.target):
                held.add(name)
        elif isinstance(node, ast.withitem) and is_process(node.context_expr):
            if node.optional_vars is not None and (name := _last_name(node.optional_vars)):
                held.add(name)
    return held


def _bounded_by_asyncio(call: ast.Call, parents: dict) -> bool:
    """An awaited call inside `asyncio.wait_for(...)` or `async with asyncio.timeout(...)`."""
    node = call
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Call) and (_dotted(node.func) or "").endswith("wait_for"):
            return True
        if isinstance(node, ast.AsyncWith) and any(
            "timeout" in ast.unparse(item.context_expr) for item in node.items
        ):
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
    return False


def unbounded_calls(source: str, where: str = "<snippet>") -> list[str]:
    """`where:line: call` for each call in `source` that can wait without an end."""
    tree = ast.parse(source)
    names = _aliases(tree)
    processes = _processes(tree, names)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        target = _target(call, names)
        reason = None
        if target in NEEDS and not _has(call, *NEEDS[target]):
            reason = f"no {NEEDS[target][0]}"
        elif (
            target
            and target[0] == "httpx"
            and any(
                k.arg == "timeout" and isinstance(k.value, ast.Constant) and k.value.value is None
                for k in call.keywords
            )
        ):
            reason = "timeout=None"
        elif target == ("asyncio", "open_connection") and not _bounded_by_asyncio(call, parents):
            reason = "not inside asyncio.wait_for or asyncio.timeout"
        elif (
            isinstance(call.func, ast.Attribute)
            and call.func.attr in PROCESS_WAITS
            and _last_name(call.func.value) in processes
            and not _has(call, "timeout", PROCESS_WAITS[call.func.attr])
            and not _bounded_by_asyncio(call, parents)
        ):
            reason = "waits for a child process without a timeout"
        if reason:
            found.append(f"{where}:{call.lineno}: {ast.unparse(call.func)}(...) {reason}")
    return found


def project_sources() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "templates" not in path.relative_to(ROOT).parts
    )


def test_every_subprocess_and_network_call_in_shipmate_has_a_timeout():
    sources = project_sources()
    assert len(sources) > 100  # the packages were found, not an empty walk
    offenders = [
        line
        for path in sources
        for line in unbounded_calls(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert offenders == []


def test_the_check_finds_each_kind_of_call_that_can_hang():
    """The check itself must see what it looks for, however the call is spelled."""
    bad = textwrap.dedent(
        """
        import subprocess as sp
        import asyncio, httpx, requests, socket, psycopg
        from subprocess import check_output
        from urllib.request import urlopen

        async def f(url):
            sp.run(["git", "fetch"])
            check_output(["pip", "download"])
            tar = sp.Popen(["tar", "-c", "."])
            tar.wait()
            with sp.Popen(["ruff"]) as ruff:
                ruff.communicate()
            child = await asyncio.create_subprocess_exec("debootstrap")
            await child.wait()
            requests.get(url)
            httpx.Client(timeout=None)
            urlopen(url)
            socket.create_connection(("registry", 5000))
            psycopg.connect(url)
            await asyncio.open_connection("127.0.0.1", 7233)
        """
    )
    good = textwrap.dedent(
        """
        import subprocess, asyncio, httpx, requests, socket, threading
        from urllib.request import urlopen

        async def f(url, options):
            subprocess.run(["git", "fetch"], timeout=60)
            tar = subprocess.Popen(["tar"])
            tar.wait(timeout=30)
            tar.communicate(None, 10)
            child = await asyncio.create_subprocess_exec("pip")
            await asyncio.wait_for(child.wait(), 60)
            async with asyncio.timeout(5):
                await asyncio.open_connection("127.0.0.1", 7233)
            requests.post(url, timeout=3)
            httpx.get(url)  # httpx's default timeout is 5 s
            urlopen(url, None, 2)
            socket.create_connection(("registry", 5000), 3)
            subprocess.run(["ruff"], **options)
            threading.Event().wait()  # not a child process
        """
    )
    flagged = sorted(line.split(": ", 1)[1].split("(")[0] for line in unbounded_calls(bad))
    assert flagged == sorted(
        [
            *("sp.run", "check_output", "tar.wait", "ruff.communicate", "child.wait"),
            *("requests.get", "httpx.Client", "urlopen", "socket.create_connection"),
            *("psycopg.connect", "asyncio.open_connection"),
        ]
    )
    assert unbounded_calls(good) == []
