"""A review's fixes stay with the service: applied after generating, kept in fixes/, and
applied again to every later version; one the generated code has moved away from is
dropped and named, and a new one that does not apply stops the scaffold with git's words.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from activities.scaffold.fixes import FIXES_DIR, FixDoesNotApply, apply_fixes
from activities.scaffold.generator import write_service
from understanding import parse_request

OLD = 'DRAINING = "/tmp/draining"'
NEW = 'DRAINING = os.environ.get("DRAIN_MARKER", "/tmp/draining")'


def fix_for(repo: Path) -> str:
    """The fix as a unified diff with context, as `git diff` writes one."""
    before = (repo / "app/main.py").read_text()
    after = before.replace(OLD, NEW, 1)
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            "a/app/main.py",
            "b/app/main.py",
        )
    )


def test_a_fix_is_kept_and_applied_again_to_the_next_version(tmp_path):
    v1 = parse_request("build a memo api: memos have title and body").spec
    repo = tmp_path / "memo-api"
    write_service(v1, repo)
    fix = fix_for(repo)

    digest, notes = apply_fixes(repo, {}, [fix])
    assert digest and notes == []
    assert NEW in (repo / "app/main.py").read_text()
    kept = {p.name: p.read_bytes() for p in (repo / FIXES_DIR).glob("*.patch")}
    assert list(kept) == ["0001.patch"]

    v2 = parse_request("build a memo api: memos have title, body and pinned (bool)").spec
    v2 = v2.model_copy(update={"version": 2})
    write_service(v2, repo, [v1])
    assert OLD in (repo / "app/main.py").read_text()  # generated anew…
    again, notes = apply_fixes(repo, kept, [])
    assert again == digest and notes == []
    assert NEW in (repo / "app/main.py").read_text()  # …and the fix is there again


def test_a_kept_fix_that_no_longer_applies_is_dropped_and_named(tmp_path):
    spec = parse_request("build a memo api: memos have title and body").spec
    repo = tmp_path / "memo-api"
    write_service(spec, repo)
    stale = fix_for(repo).replace(OLD, 'DRAINING = "/var/run/draining"', 1)
    digest, notes = apply_fixes(repo, {"fixes/0001.patch": stale.encode()}, [])
    assert digest == ""
    assert notes == ["the earlier fix 0001.patch no longer applies and was dropped"]
    assert not (repo / FIXES_DIR).exists()


def test_a_new_fix_that_does_not_apply_stops_with_gits_reason(tmp_path):
    spec = parse_request("build a memo api: memos have title and body").spec
    repo = tmp_path / "memo-api"
    write_service(spec, repo)
    wrong = fix_for(repo).replace("app/main.py", "app/nothere.py")
    with pytest.raises(FixDoesNotApply, match="fix 1 of 1 does not apply: .*nothere"):
        apply_fixes(repo, {}, [wrong])
