"""The linters as subprocesses, each with a time limit, each ending as one SARIF run.

Each runs with settings of our own, never the reviewed repository's (`ruff --isolated`,
an empty `.bandit` and mypy config, radon from outside the tree): the code under review
cannot switch its own checks off. A tool that is missing, fails or runs out of time
becomes a failed run with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .sarif_runs import failed_run, result, run
from .source import SKIP_DIRS

TIMEOUTS = {"ruff": 60.0, "bandit": 120.0, "radon": 60.0, "mypy": 180.0}  # seconds
RUFF_SELECT = "E4,E7,E9,F,B,S,BLE,ASYNC,PERF,SIM,DTZ,PIE,RUF006,RUF013,PLE,T10"
RUFF_IGNORE = "SIM108,SIM105,SIM117,PERF203,B008,S311"  # taste, and FastAPI's Depends()
MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+\.pyi?):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<kind>error|note): "
    r"(?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
MAX_RESULTS = 5000  # per tool: a repository with more has bigger problems than the list


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    error: str = ""  # why it did not run to the end


def timeout(tool: str) -> float:
    configured = os.environ.get(f"ANALYZER_TIMEOUT_{tool.upper()}")
    try:
        return float(configured) if configured else TIMEOUTS[tool]
    except ValueError:
        return TIMEOUTS[tool]


def execute(argv: list[str], cwd: Path, limit: float, scratch: Path) -> Outcome:
    executable = shutil.which(argv[0])
    if executable is None:
        return Outcome(-1, "", "", f"{argv[0]} is not installed")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }
    try:
        process = subprocess.Popen(
            [executable, *argv[1:]],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its children end with it
        )
    except OSError as exc:
        return Outcome(-1, "", "", f"{argv[0]} could not start: {exc.strerror}")
    try:
        stdout, stderr = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it ended just now
        process.communicate(timeout=10)  # killed with its group: its pipes close at once
        return Outcome(-1, "", "", f"{argv[0]} timed out after {limit:g} s")
    return Outcome(process.returncode, _text(stdout), _text(stderr))


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _tail(outcome: Outcome) -> str:
    said = (outcome.stderr.strip() or outcome.stdout.strip())[-800:]
    return f"exit {outcome.returncode}: {said}" if said else f"exit {outcome.returncode}"


def ruff(src: Path, scratch: Path, links: list[str]) -> dict:
    excluded = ",".join([*sorted(SKIP_DIRS), *links])
    argv = ["ruff", "check", "--isolated", "--no-cache", "--no-respect-gitignore"]
    argv += ["--exit-zero", "--output-format", "sarif", "--select", RUFF_SELECT]
    argv += ["--ignore", RUFF_IGNORE, "--extend-exclude", excluded, "."]
    outcome = execute(argv, src, timeout("ruff"), scratch)
    if outcome.error or outcome.returncode != 0:
        return failed_run("ruff", outcome.error or _tail(outcome))
    try:
        produced = json.loads(outcome.stdout)["runs"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return failed_run("ruff", "ruff's SARIF could not be read: " + outcome.stdout[:300])
    results = []
    for found in produced.get("results", [])[:MAX_RESULTS]:
        try:
            location = found["locations"][0]["physicalLocation"]
            path = _relative(location["artifactLocation"]["uri"], src)
            line = location.get("region", {}).get("startLine", 1)
            column = location.get("region", {}).get("startColumn", 1)
        except (KeyError, IndexError, TypeError):
            continue
        rule = found.get("ruleId") or "invalid-syntax"
        results.append(
            result(
                rule,
                found.get("message", {}).get("text", ""),
                path,
                line,
                level=found.get("level", "warning"),
                column=column,
            )
        )
    driver = produced.get("tool", {}).get("driver", {})
    used = {found["ruleId"] for found in results}
    rules = [
        {key: rule[key] for key in ("id", "shortDescription", "helpUri") if key in rule}
        for rule in driver.get("rules", [])
        if rule.get("id") in used
    ]
    return run(
        "ruff",
        results,
        version=driver.get("version", ""),
        uri="https://docs.astral.sh/ruff/",
        rules=rules,
    )


def _relative(uri: str, src: Path) -> str:
    path = uri.removeprefix("file://")
    try:
        return Path(path).resolve().relative_to(src.resolve()).as_posix()
    except ValueError:
        return path.removeprefix("./")


BANDIT_LEVELS = {"HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


def bandit(src: Path, scratch: Path, links: list[str]) -> dict:
    ini = scratch / "bandit.ini"
    ini.write_text("[bandit]\n")  # the repository's own .bandit file is not read
    excluded = ",".join([*(f"*/{name}/*" for name in sorted(SKIP_DIRS)), *links])
    argv = ["bandit", "-r", ".", "-f", "json", "-q", "--ini", str(ini), "-x", excluded]
    outcome = execute(argv, src, timeout("bandit"), scratch)
    if outcome.error or outcome.returncode not in (0, 1):
        return failed_run("bandit", outcome.error or _tail(outcome))
    try:
        report = json.loads(outcome.stdout)
    except ValueError:
        return failed_run("bandit", "bandit's JSON could not be read: " + _tail(outcome))
    results = []
    for issue in report.get("results", [])[:MAX_RESULTS]:
        severity = str(issue.get("issue_severity", "LOW")).upper()
        properties = {
            "bandit_severity": severity,
            "confidence": str(issue.get("issue_confidence", "")).upper(),
            "cwe": (issue.get("issue_cwe") or {}).get("id"),
        }
        results.append(
            result(
                issue.get("test_id", "bandit"),
                issue.get("issue_text", ""),
                str(issue.get("filename", "")).removeprefix("./"),
                issue.get("line_number", 1),
                level=BANDIT_LEVELS.get(severity, "warning"),
                column=int(issue.get("col_offset") or 0) + 1,
                properties=properties,
            )
        )
    notes = [f"{e.get('filename', '')}: {e.get('reason', '')}" for e in report.get("errors", [])]
    return run("bandit", results, uri="https://bandit.readthedocs.io/", notes=notes)


def radon(src: Path, scratch: Path, links: list[str]) -> dict:
    ignored = ",".join([".*", *sorted(SKIP_DIRS)])
    argv = ["radon", "cc", "-j", "-n", "C", "-i", ignored, str(src.resolve())]
    if links:
        argv[-1:-1] = ["-e", ",".join(str(src.resolve() / link) for link in links)]
    outcome = execute(argv, scratch, timeout("radon"), scratch)  # outside: no repo config
    if outcome.error or outcome.returncode != 0:
        return failed_run("radon", outcome.error or _tail(outcome))
    try:
        report = json.loads(outcome.stdout or "{}")
    except ValueError:
        return failed_run("radon", "radon's JSON could not be read: " + _tail(outcome))
    results, notes = [], []
    for path, blocks in report.items():
        relative = _relative(path, src)
        if isinstance(blocks, dict):
            notes.append(f"{relative}: {blocks.get('error', 'not read')}")
            continue
        for block in blocks:
            if block.get("type") not in ("function", "method"):
                continue
            rank, score = block.get("rank", "C"), block.get("complexity", 0)
            name = ".".join(filter(None, [block.get("classname"), block.get("name")]))
            results.append(
                result(
                    f"CC-{rank}",
                    f"{name} has cyclomatic complexity {score} (rank {rank}): "
                    "hard to follow and to test",
                    relative,
                    block.get("lineno", 1),
                    level="note",
                    properties={"complexity": score, "rank": rank},
                )
            )
    return run("radon", results[:MAX_RESULTS], uri="https://radon.readthedocs.io/", notes=notes)


def mypy(src: Path, scratch: Path, files: list[str]) -> dict:
    """Over the files that parse: one that does not would stop mypy's whole run."""
    if not files:
        return run("mypy", [], notes=["no Python files that parse"])
    config = scratch / "mypy.ini"
    config.write_text("[mypy]\n")  # the repository's own mypy settings are not read
    argv = ["mypy", "--config-file", str(config), "--ignore-missing-imports"]
    argv += ["--no-error-summary", "--no-site-packages", "--explicit-package-bases"]
    argv += ["--cache-dir", str(scratch / "mypy-cache"), "--show-error-codes", "--no-pretty"]
    argv += ["--show-column-numbers", "--hide-error-context", "--no-color-output"]
    argv += ["--", *files]
    outcome = execute(argv, src, timeout("mypy"), scratch)
    if outcome.error:
        return failed_run("mypy", outcome.error)
    results = []
    for line in outcome.stdout.splitlines():
        matched = MYPY_LINE.match(line.strip())
        if matched and matched["kind"] == "error":
            results.append(
                result(
                    matched["code"] or "mypy",
                    matched["message"],
                    matched["path"].removeprefix("./"),
                    int(matched["line"]),
                    column=int(matched["col"] or 1),
                )
            )
    if outcome.returncode not in (0, 1) and not results:
        return failed_run("mypy", _tail(outcome))
    return run("mypy", results[:MAX_RESULTS], uri="https://mypy-lang.org/")


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="analyzer-"))
