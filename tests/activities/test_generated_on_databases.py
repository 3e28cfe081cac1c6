"""Each generated service of the test set on the databases it runs on in production:
its own tests pass on PostgreSQL and MariaDB, and schemathesis finds nothing against the
running service on PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from testkit.oidc import local_issuer
from tests.activities.test_scaffold import PYTHON, SPECS, generate, run_generated_tests, serving


@pytest.mark.parametrize("label", SPECS)
def test_generated_tests_pass_against_real_postgresql(label, tmp_path, postgres_url):
    project = generate(SPECS[label], tmp_path / "service")
    assert "failed" not in run_generated_tests(project, postgres_url)


@pytest.mark.parametrize("label", SPECS)
def test_generated_tests_pass_against_real_mariadb(label, tmp_path, mariadb_url):
    project = generate(SPECS[label], tmp_path / "service")
    assert "failed" not in run_generated_tests(project, mariadb_url)


@pytest.mark.parametrize("label", SPECS)
def test_schemathesis_finds_nothing_on_postgresql(label, tmp_path, postgres_url):
    """Every check schemathesis has: statuses, content types and bodies as documented,
    nonsense refused, valid data accepted, created rows readable, deleted ones gone."""
    project = generate(SPECS[label], tmp_path / "service")
    issuer = local_issuer(project)
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "ENVIRONMENT": "fuzz",
        "JWT_SECRET": "a-fuzzing-secret-of-32-bytes-or-more",
        "FIRST_ADMIN_USERNAME": "admin",
        "FIRST_ADMIN_PASSWORD": "fuzz-pw",
        **({"OIDC_ISSUER": issuer.url} if issuer else {}),
    }
    with serving(project, env) as base:
        if issuer:  # signed in by its OpenID Connect issuer: the service's own test one
            token = issuer.token("admin")
        else:
            signed_in = httpx.post(
                f"{base}/auth/token", data={"username": "admin", "password": "fuzz-pw"}
            )
            token = signed_in.json().get("access_token")  # a service without auth has none
        fuzz = subprocess.run(
            [
                str(Path(PYTHON).parent / "schemathesis"),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "20",
                "--seed",
                "1",
                *(["-H", f"Authorization: Bearer {token}"] if token else []),
            ],
            capture_output=True,
            text=True,
            timeout=400,
            cwd=tmp_path,  # its cache stays out of the repository
        )
    assert fuzz.returncode == 0, _readable(fuzz.stdout)[-6000:]
    assert re.search(r"(\d+) generated, \1 passed", fuzz.stdout), _readable(fuzz.stdout)[-2000:]


def _readable(report: str) -> str:
    """The report with long runs of one character shortened: a reproduction with a
    10,000-character field would otherwise fill the whole failure message."""
    return re.sub(r"(.)\1{40,}", lambda run: f"{run[1] * 8}…({len(run[0])}×)", report)
