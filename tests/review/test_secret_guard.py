"""A secret found in reviewed code is never repeated: a fix that removes it or shows its
line as context loses its patch, whoever proposed it (a tool or the model), and the
words of every finding are scrubbed of it."""

from __future__ import annotations

import shutil

from activities.review.secret_guard import guarded, secrets_found
from testkit.seeded_bugs import SEEDED, SEEDED_DIR
from workflows.review_models import Finding, Severity

SECRET_LINE = next(line for family, path, line in SEEDED if family == "hardcoded-secret")


def finding(**overrides) -> Finding:
    base = {
        "rule": "hardcoded-secret",
        "tool": "shipmate",
        "severity": Severity.high,
        "file": "app/security.py",
        "line": SECRET_LINE,
        "message": "A secret is written into the code",
    }
    return Finding(**(base | overrides))


def secret_and_patch(root, context_only: bool = False) -> tuple[str, str]:
    lines = (root / "app/security.py").read_text().splitlines()
    line = lines[SECRET_LINE - 1]
    value = line.split('"')[1]
    if context_only:  # a fix of the line after, with the secret's line as its context
        after = lines[SECRET_LINE]
        body = f" {line}\n-{after}\n+{after}  # changed\n"
        hunk = f"@@ -{SECRET_LINE},2 +{SECRET_LINE},2 @@\n"
    else:
        body = f'-{line}\n+SECRET_KEY = os.environ["SECRET_KEY"]\n'
        hunk = f"@@ -{SECRET_LINE} +{SECRET_LINE} @@\n"
    return value, "--- a/app/security.py\n+++ b/app/security.py\n" + hunk + body


def test_the_models_fix_of_a_secret_loses_its_patch(tmp_path):
    root = tmp_path / "code"
    shutil.copytree(SEEDED_DIR, root)
    value, patch = secret_and_patch(root)
    static = [finding()]
    proposed = finding(
        tool="model", rule="model/secret", message=f"key {value} in code", patch=patch
    )
    (kept,) = guarded([proposed], secrets_found([proposed, *static], root))
    assert kept.patch == ""
    assert value not in kept.message


def test_a_fix_that_shows_the_secrets_line_as_context_loses_its_patch(tmp_path):
    root = tmp_path / "code"
    shutil.copytree(SEEDED_DIR, root)
    _, patch = secret_and_patch(root, context_only=True)
    nearby = finding(rule="other", severity=Severity.low, line=SECRET_LINE + 1, patch=patch)
    found = [finding(), nearby]
    kept = guarded(found, secrets_found(found, root))
    assert [f.patch for f in kept] == ["", ""]


def test_fixes_far_from_secrets_keep_their_patches(tmp_path):
    root = tmp_path / "code"
    shutil.copytree(SEEDED_DIR, root)
    patch = "--- a/app/clients.py\n+++ b/app/clients.py\n@@ -1 +1 @@\n-x\n+y\n"
    far = finding(rule="http-without-timeout", file="app/clients.py", line=1, patch=patch)
    found = [finding(), far]
    assert guarded(found, secrets_found(found, root))[1].patch == patch
