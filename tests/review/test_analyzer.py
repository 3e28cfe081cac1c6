"""The reviewer's analyzer, run as its image runs it (`python -m analyzer SRC`, the tools
found on PATH), on the seeded-bug service, a freshly generated Shipmate service and odd
input: what it finds, where, the fixes it offers, and what it does when a tool fails."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from activities.review.sarif import findings_from_sarif, hot_spots, to_markdown
from activities.scaffold.generator import write_service
from testkit.seeded_bugs import SEEDED, SEEDED_DIR
from understanding import parse_request
from workflows.review_models import Severity

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOOLS = {"shipmate", "ruff", "bandit", "mypy", "radon"}
FIVE_ENTITIES = (
    "library api with jwt auth and roles admin, librarian and member on postgres: "
    "authors have name; books have title, isbn (unique) and author; members have email "
    "(unique) and name; loans have book, member and due date; branches have city and "
    "opened_on date"
)


def analyze(src: Path, path: str | None = None, **env: str) -> dict:
    environ = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "activities" / "review"),
        "PATH": path or f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", str(src)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def seeded() -> dict:
    return analyze(SEEDED_DIR)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("library") / "service"
    spec = parse_request(FIVE_ENTITIES).spec
    assert spec is not None and len(spec.entities) == 5 and spec.roles
    write_service(spec, out)
    return out


@pytest.mark.parametrize("family, path, line", SEEDED, ids=[family for family, *_ in SEEDED])
def test_each_seeded_bug_is_found_where_it_is(seeded, family, path, line):
    findings, ran, failed = findings_from_sarif(seeded)
    assert set(ran) == TOOLS and failed == []
    assert any(f.rule == family and f.file == path and f.line == line for f in findings), (
        f"{family} at {path}:{line} not found; in that file: "
        + "; ".join(f"{f.rule}@{f.line}" for f in findings if f.file == path)
    )


def test_the_seeded_service_has_no_other_serious_finding(seeded):
    findings, _, _ = findings_from_sarif(seeded)
    seeded_places = {(path, line) for _, path, line in SEEDED}
    serious = [
        f"{f.where} {f.rule} ({f.tool}): {f.message}"
        for f in findings
        if f.severity in (Severity.high, Severity.medium) and (f.file, f.line) not in seeded_places
    ]
    assert serious == []
    assert len(findings) == len(SEEDED)  # ruff, bandit and ours on one line count once


def test_the_document_is_sarif_2_1_0_with_one_run_per_tool(seeded):
    assert seeded["version"] == "2.1.0" and "sarif" in seeded["$schema"]
    assert {run["tool"]["driver"]["name"] for run in seeded["runs"]} == TOOLS
    for run in seeded["runs"]:
        assert run["invocations"][0]["executionSuccessful"] is True
        for result in run["results"]:
            assert result["ruleId"] and result["message"]["text"]
            assert result["level"] in ("error", "warning", "note", "none")
            where = result["locations"][0]["physicalLocation"]
            uri = where["artifactLocation"]["uri"]
            assert (SEEDED_DIR / uri).is_file(), uri  # relative to the code's root
            assert where["region"]["startLine"] >= 1
    ours = next(run for run in seeded["runs"] if run["tool"]["driver"]["name"] == "shipmate")
    for result in ours["results"]:
        assert result["properties"]["severity"] in ("high", "medium", "low", "note")
        assert result["properties"]["why"]


def test_every_patch_applies_and_fixes_what_it_says(seeded, tmp_path):
    """Each patch passes `git apply --check` on a copy; applied, the code still parses and
    a second review no longer shows those findings."""
    copy = tmp_path / "service"
    shutil.copytree(SEEDED_DIR, copy)
    findings, _, _ = findings_from_sarif(seeded)
    patched = [f for f in findings if f.patch]
    assert {f.rule for f in patched} >= {
        "sql-from-string",
        "unindexed-column",
        "http-without-timeout",
    }
    for finding in patched:
        check = subprocess.run(
            ["git", "apply", "--check", "-"], cwd=copy, input=finding.patch, text=True,
            capture_output=True,
        )  # fmt: skip
        assert check.returncode == 0, f"{finding.where} {finding.rule}: {check.stderr}"
    for finding in patched:
        subprocess.run(["git", "apply", "-"], cwd=copy, input=finding.patch, text=True, check=True)
        ast.parse((copy / finding.file).read_text())
    again, _, _ = findings_from_sarif(analyze(copy))
    left = {(f.rule, f.file) for f in again}
    assert not {(f.rule, f.file) for f in patched} & left


def test_a_generated_service_has_no_high_finding(generated):
    findings, ran, failed = findings_from_sarif(analyze(generated))
    assert set(ran) == TOOLS and failed == []
    high = [f"{f.where} {f.rule} ({f.tool}): {f.message}" for f in findings if f.severity == "high"]
    assert high == []


def _only_some_tools(tmp_path: Path, present: list[str]) -> str:
    shelf = tmp_path / "bin"
    shelf.mkdir()
    for tool in present:
        (shelf / tool).symlink_to(BIN / tool)
    return f"{shelf}{os.pathsep}/usr/bin{os.pathsep}/bin"


def test_a_missing_tool_is_a_failed_run_and_the_rest_still_report(tmp_path):
    assert shutil.which("mypy", path="/usr/bin:/bin") is None
    doc = analyze(SEEDED_DIR, path=_only_some_tools(tmp_path, ["ruff", "bandit", "radon"]))
    findings, ran, failed = findings_from_sarif(doc)
    assert failed == ["mypy: mypy is not installed"]
    assert set(ran) == TOOLS - {"mypy"}
    assert {family for family, _, _ in SEEDED} <= {f.rule for f in findings}


def test_a_tool_out_of_time_is_a_failed_run():
    doc = analyze(SEEDED_DIR, ANALYZER_TIMEOUT_MYPY="0.01", ANALYZER_TIMEOUT_BANDIT="0.01")
    _, ran, failed = findings_from_sarif(doc)
    assert sorted(failed) == [
        "bandit: bandit timed out after 0.01 s",
        "mypy: mypy timed out after 0.01 s",
    ]
    assert set(ran) == {"shipmate", "ruff", "radon"}


def test_an_empty_directory_is_a_review_with_nothing_to_say(tmp_path):
    findings, ran, failed = findings_from_sarif(analyze(tmp_path))
    assert findings == [] and failed == [] and set(ran) == TOOLS


def test_odd_files_are_skipped_not_fatal(tmp_path):
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "blob.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    (tmp_path / "latin.py").write_bytes(b'name = "caf\xe9"\n')  # not UTF-8, says nothing
    (tmp_path / "image.png").write_bytes(bytes(range(256)))
    (tmp_path / "outside.py").symlink_to("/etc/hostname")
    (tmp_path / "fine.py").write_text(
        "import requests\n\ndef ping(url):\n    return requests.get(url)\n"
    )
    doc = analyze(tmp_path)
    findings, ran, failed = findings_from_sarif(doc)
    assert "shipmate" in ran and {"ruff", "bandit", "mypy", "radon"} <= set(ran) | {
        failure.split(":")[0] for failure in failed
    }
    assert any(f.rule == "http-without-timeout" and f.where == "fine.py:4" for f in findings)
    ours = next(run for run in doc["runs"] if run["tool"]["driver"]["name"] == "shipmate")
    skipped = " ".join(
        n["message"]["text"] for n in ours["invocations"][0]["toolExecutionNotifications"]
    )
    assert "broken.py" in skipped and "blob.py" in skipped and "latin.py" in skipped
    assert "outside.py" not in json.dumps(doc)  # a link out of the tree is not followed


LEGACY_MODELS = """from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    email = Column(String(200))
    team_id = Column(Integer, ForeignKey("teams.id"))
    org_id = Column(Integer, ForeignKey("orgs.id"))
    team = relationship("Team")
"""
LEGACY_VIEWS = """import requests as rq
from flask import Flask, jsonify, request
from flask_login import login_required

from models import User, db

app = Flask(__name__)
AWS_KEY = "AKIA2E0A8F3B244C9986"


@app.route("/users", methods=["GET"])
@login_required
def users():
    return jsonify([u.team.name for u in db.session.query(User).all()])


@app.route("/users/<int:uid>", methods=["POST"])
def change(uid):
    db.session.execute("UPDATE users SET email = '%s' WHERE id = 1" % request.args["e"])
    rq.get("https://partner.example.com/notify")
    try:
        db.session.commit()
    except:
        pass
    return "ok"


@app.route("/users/by-email")
@login_required
def by_email():
    return jsonify(db.session.query(User).filter_by(email=request.args["e"]).first().id)
"""
LEGACY_MIGRATION = """from alembic import op


def upgrade():
    op.create_index("ix_users_org_id", "users", ["org_id"])
"""


def test_flask_and_classic_sqlalchemy_are_read_too(tmp_path):
    """Another house style: Flask decorators, `Column(...)`, `query().all()`, `%` SQL, an
    aliased `requests`, an index made by a migration (which counts)."""
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "models.py").write_text(LEGACY_MODELS)
    (tmp_path / "views.py").write_text(LEGACY_VIEWS)
    (tmp_path / "migrations" / "versions" / "0001_index.py").write_text(LEGACY_MIGRATION)
    findings, _, _ = findings_from_sarif(analyze(tmp_path))
    ours = {(f.rule, f.where, f.severity.value) for f in findings if f.tool == "shipmate"}
    assert ours == {
        ("hardcoded-secret", "views.py:8", "high"),
        ("list-without-limit", "views.py:13", "medium"),
        ("n-plus-one", "views.py:14", "medium"),
        ("write-without-auth", "views.py:18", "high"),
        ("sql-from-string", "views.py:19", "high"),
        ("http-without-timeout", "views.py:20", "medium"),
        ("swallowed-exception", "views.py:23", "medium"),
        ("unindexed-column", "models.py:10", "medium"),  # email: filtered by filter_by
        ("unindexed-column", "models.py:11", "medium"),  # team_id: a foreign key
    }  # org_id is indexed by the migration


def _result(rule: str, line: int, **properties) -> dict:
    where = {"artifactLocation": {"uri": "app/db.py"}, "region": {"startLine": line}}
    found = {"ruleId": rule, "level": "warning", "message": {"text": rule}}
    return {**found, "locations": [{"physicalLocation": where}], "properties": properties}


def _run(tool: str, *results: dict) -> dict:
    return {"tool": {"driver": {"name": tool}}, "invocations": [{"executionSuccessful": True}],
            "results": list(results)}  # fmt: skip


def test_one_problem_two_tools_is_one_finding_and_the_report_reads_well():
    patch = "--- a/app/db.py\n+++ b/app/db.py\n@@ -1 +1 @@\n-x\n+y\n"
    doc = {
        "version": "2.1.0",
        "runs": [
            _run("ruff", _result("S608", 4), _result("F401", 1)),
            _run("bandit", _result("B608", 4, bandit_severity="MEDIUM", confidence="LOW")),
            _run("shipmate", _result("sql-from-string", 4, severity="high", why="w", patch=patch)),
            {"tool": {"driver": {"name": "mypy"}}, "results": [], "invocations": [
                {"executionSuccessful": False,
                 "toolExecutionNotifications": [{"message": {"text": "mypy timed out"}}]}]},
        ],
    }  # fmt: skip
    findings, ran, failed = findings_from_sarif(doc)
    assert ran == ["ruff", "bandit", "shipmate"] and failed == ["mypy: mypy timed out"]
    assert [(f.rule, f.severity.value, f.line) for f in findings] == [
        ("sql-from-string", "high", 4),
        ("F401", "note", 1),
    ]
    assert hot_spots(findings) == ["app/db.py"]
    report = to_markdown(findings, "orders-api")
    assert "**1 high · 0 medium · 0 low · 1 note**" in report
    assert "`app/db.py:4` — sql-from-string" in report and f"```diff\n{patch}```" in report
