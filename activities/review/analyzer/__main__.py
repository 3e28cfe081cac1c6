"""`python -m analyzer SRC_DIR`: one SARIF 2.1.0 document on stdout, exit 0 with findings.

The linters run side by side (each with its own time limit) while the structural checks
read the code in this process; every run is in the document, failed ones included.
"""

from __future__ import annotations

import json
import shutil
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import architecture, tools
from .checks import ALL
from .sarif_runs import document, failed_run, run
from .source import Project, is_test_path, links, load

# Rules that are noise in tests: asserts, fixture passwords, temp paths, subprocesses.
RELAXED_IN_TESTS = {
    "S101", "S105", "S106", "S107", "S108", "S311", "S603", "S607", "S404",
    "B101", "B105", "B106", "B107", "B108", "B311", "B603", "B607", "B404",
}  # fmt: skip


def structural(project: Project) -> dict:
    results, notes = [], list(project.skipped)
    for check in ALL:
        try:
            results += [issue.result() for issue in check(project)]
        except Exception as exc:  # noqa: BLE001 - one broken check must not lose the rest
            where = traceback.extract_tb(exc.__traceback__)[-1]
            notes.append(f"{check.__module__} failed: {exc!r} at line {where.lineno}")
    made = run("shipmate", results, uri="https://github.com/shipmate", notes=notes)
    try:
        made["graphs"] = architecture.graphs(project)
    except Exception as exc:  # noqa: BLE001 - no picture is no reason to lose the findings
        notes.append(f"the architecture graphs could not be read: {exc!r}")
    return made


def analyze(src: Path) -> dict:
    project = load(src)
    linked = links(src)
    scratch = tools.scratch_dir()
    try:
        jobs = {
            "ruff": lambda: tools.ruff(src, scratch, linked),
            "bandit": lambda: tools.bandit(src, scratch, linked),
            "mypy": lambda: tools.mypy(src, scratch, [m.path for m in project.modules]),
            "radon": lambda: tools.radon(src, scratch, linked),
        }
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            started = {name: pool.submit(job) for name, job in jobs.items()}
            ours = structural(project)
            runs = [ours]
            for name, future in started.items():
                try:
                    runs.append(future.result())
                except Exception as exc:  # noqa: BLE001 - a tool's failure is a failed run
                    runs.append(failed_run(name, f"{name} could not be run: {exc!r}"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for made in runs:
        made["results"] = [found for found in made["results"] if _kept(found, linked)]
    return document(runs)


def _kept(found: dict, linked: list[str]) -> bool:
    """Inside the tree (never through a link), and not a test's accepted noise."""
    path = _path(found)
    if path.startswith(("/", "../", "file:")) or path in linked:
        return False
    return not (found["ruleId"] in RELAXED_IN_TESTS and is_test_path(path))


def _path(found: dict) -> str:
    return found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m analyzer SRC_DIR", file=sys.stderr)
        return 2
    src = Path(args[0])
    if not src.is_dir():
        print(f"not a directory: {src}", file=sys.stderr)
        return 2
    json.dump(analyze(src), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
