"""The scaffold stage's git repository: a commit per spec version naming the request and
who asked, pushed to the team's remote when one is configured (a real bare repository)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.scaffold.repository import PushFailed, push_version
from activities.stages import DeliveryActivities
from understanding import parse_change, parse_request
from workflows.stage_models import ScaffoldInput


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def scaffold(settings, spec, text: str, requester: str):
    request = ScaffoldInput(spec=spec, request_text=text, requester=requester)
    return ActivityEnvironment().run(DeliveryActivities(settings).scaffold_service, request)


def test_each_version_is_a_commit_pushed_to_the_configured_remote(settings, tmp_path):
    remotes = tmp_path / "remotes"
    local = settings.model_copy(
        update={"state_dir": tmp_path / "state", "git_remote": f"{remotes}/{{service}}.git"}
    )
    spec = parse_request("build a todo api").spec
    spec = spec.model_copy(update={"name": f"todo-{uuid.uuid4().hex[:6]}"})
    remote = remotes / f"{spec.name}.git"
    git("init", "-q", "--bare", str(remote))

    scaffold(local, spec, "build a todo api", "U0ALICE")
    second = parse_change(spec, "add a notes field to todos").spec
    scaffold(local, second, "add a notes field to todos", "U0BOB")

    log = git("--git-dir", str(remote), "log", "--format=%s%n%b", "main")
    assert f"{spec.name} v2: add a notes field to todos" in log
    assert "Requested by U0BOB through Shipmate." in log
    assert f"{spec.name} v1: build a todo api" in log
    assert "Requested by U0ALICE through Shipmate." in log
    tree = git("--git-dir", str(remote), "ls-tree", "-r", "--name-only", "main")
    assert "app/main.py" in tree and "specs/v0002.json" in tree


def test_a_refused_push_fails_the_stage_with_gits_reason(settings, tmp_path):
    local = settings.model_copy(
        update={"state_dir": tmp_path / "state", "git_remote": f"{tmp_path}/missing/{{service}}"}
    )
    spec = parse_request("build a todo api").spec
    with pytest.raises(ApplicationError) as refused:
        scaffold(local, spec, "build a todo api", "U0ALICE")
    assert refused.value.non_retryable and refused.value.type == "PushFailed"
    remote = f"{tmp_path}/missing/{spec.name}"
    assert f"git push to {remote} failed: fatal: '{remote}' does not appear to be a git " in str(
        refused.value
    )  # git's own words
    assert (tmp_path / "state" / "services" / spec.name / ".git").exists()  # kept locally


def test_a_token_in_the_remote_url_never_reaches_the_message(settings, tmp_path):
    remote = "http://shipmate:s3cr3t-token@127.0.0.1:9/acme/{service}.git"
    local = settings.model_copy(update={"state_dir": tmp_path / "state", "git_remote": remote})
    with pytest.raises(ApplicationError) as refused:
        scaffold(local, parse_request("build a todo api").spec, "build a todo api", "U0A")
    assert "s3cr3t-token" not in str(refused.value)
    assert "http://***@127.0.0.1:9/acme/todo-api.git" in str(refused.value)


def test_without_a_remote_nothing_is_pushed(settings, tmp_path):
    local = settings.model_copy(update={"state_dir": tmp_path / "state", "git_remote": None})
    result = scaffold(local, parse_request("build a todo api").spec, "build a todo api", "U0A")
    assert git("-C", result.path, "remote") == ""


def test_after_a_refused_push_the_retried_stage_pushes_the_same_version(settings, tmp_path):
    """`retry` runs the scaffold again: once the remote takes pushes, the version lands."""
    remotes = tmp_path / "remotes"
    local = settings.model_copy(
        update={"state_dir": tmp_path / "state", "git_remote": f"{remotes}/{{service}}.git"}
    )
    spec = parse_request("build a todo api").spec
    spec = spec.model_copy(update={"name": f"todo-{uuid.uuid4().hex[:6]}"})
    with pytest.raises(ApplicationError, match="git push to .* failed"):
        scaffold(local, spec, "build a todo api", "U0ALICE")
    remote = remotes / f"{spec.name}.git"
    git("init", "-q", "--bare", str(remote))

    scaffold(local, spec, "build a todo api", "U0ALICE")

    log = git("--git-dir", str(remote), "log", "--format=%s", "main")
    assert log.splitlines() == [f"{spec.name} v1: build a todo api"]


def test_a_remote_whose_main_moved_on_is_followed_and_never_overwritten(settings, tmp_path):
    """Pushes fast-forward only: the next version follows whatever the remote's main holds
    (its commit stays in the history), and a history that does not contain the remote's
    main is refused rather than forced."""
    remotes = tmp_path / "remotes"
    local = settings.model_copy(
        update={"state_dir": tmp_path / "state", "git_remote": f"{remotes}/{{service}}.git"}
    )
    spec = parse_request("build a todo api").spec
    spec = spec.model_copy(update={"name": f"todo-{uuid.uuid4().hex[:6]}"})
    remote = remotes / f"{spec.name}.git"
    git("init", "-q", "--bare", str(remote))
    first = scaffold(local, spec, "build a todo api", "U0ALICE")
    # someone replaces main with unrelated history
    elsewhere = tmp_path / "elsewhere"
    git("init", "-q", "-b", "main", str(elsewhere))
    (elsewhere / "NOTES.md").write_text("ours now\n")
    git("-C", str(elsewhere), "add", ".")
    git("-C", str(elsewhere), "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "ours")
    git("-C", str(elsewhere), "push", "-q", "--force", str(remote), "main")
    theirs = git("--git-dir", str(remote), "rev-parse", "main").strip()

    # the stage's own push of a history without theirs is refused, and main stays
    with pytest.raises(PushFailed, match="rejected"):
        push_version(Path(first.path), str(remote))
    assert git("--git-dir", str(remote), "rev-parse", "main").strip() == theirs

    # the next version catches up first: it lands on top of theirs
    second = parse_change(spec, "add a notes field to todos").spec
    scaffold(local, second, "add a notes field to todos", "U0BOB")
    log = git("--git-dir", str(remote), "log", "--format=%H %s", "main").splitlines()
    assert log[0].endswith(f"{spec.name} v2: add a notes field to todos")
    assert log[1] == f"{theirs} ours"
