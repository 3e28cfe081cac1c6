"""Settings come from SHIPMATE_ variables and from a `.env` file where Shipmate runs;
a variable beats the file, and a bad value is refused naming the setting."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shipmate.settings import Settings


def test_a_dot_env_file_in_the_working_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("SHIPMATE_TASK_QUEUE", "SHIPMATE_APPROVERS"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(
        'SHIPMATE_TASK_QUEUE=from-the-file\nSHIPMATE_APPROVERS=["U0DAVE"]\n'
    )
    read = Settings()
    assert (read.task_queue, read.approvers) == ("from-the-file", ["U0DAVE"])

    monkeypatch.setenv("SHIPMATE_TASK_QUEUE", "from-the-variable")
    assert Settings().task_queue == "from-the-variable"


def test_a_bad_value_in_the_file_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHIPMATE_APPROVAL_TIMEOUT_HOURS", raising=False)
    (tmp_path / ".env").write_text("SHIPMATE_APPROVAL_TIMEOUT_HOURS=soon\n")
    with pytest.raises(ValidationError, match="approval_timeout_hours"):
        Settings()


def test_an_issuer_is_https_unless_it_runs_on_this_machine(monkeypatch):
    monkeypatch.setenv(
        "SHIPMATE_OIDC_ISSUERS",
        '{"staging": "http://127.0.0.1:8080/realms/dev", "prod": "https://login.example.com"}',
    )
    assert Settings().oidc_issuers["prod"] == "https://login.example.com"
    for hidden in ("http://login.example.com", "http://localhost:@evil.example.com", "https://"):
        monkeypatch.setenv("SHIPMATE_OIDC_ISSUERS", json.dumps({"prod": hidden}))
        with pytest.raises(ValidationError, match="oidc_issuers.prod"):
            Settings()
