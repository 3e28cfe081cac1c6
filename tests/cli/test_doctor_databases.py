"""`shipmate doctor` says where locally deployed services get their databases: a server
named in the settings (which must answer) or the one `shipmate dev` starts itself."""

from __future__ import annotations

from cli import devstack
from cli.doctor_databases import database_checks
from shipmate.settings import Settings


def lines(settings: Settings) -> dict[str, tuple[bool, str, str]]:
    return {c.name: (c.ok, c.detail, c.fix) for c in database_checks(settings)}


def test_unset_urls_are_reported_as_the_servers_shipmate_dev_starts():
    found = lines(Settings(postgres_url=None, mysql_url=None, dev_postgres_port=54111))
    ok, detail, _ = found["postgres"]
    assert ok and detail.startswith("SHIPMATE_POSTGRES_URL unset: `shipmate dev` starts its own")
    assert "on 54111 (/usr/lib/postgresql/" in detail
    assert found["mariadb"][0] and "mariadbd" in found["mariadb"][1]


def test_a_named_server_must_answer_and_its_password_is_never_shown(database_servers):
    silent = devstack.free_port()
    settings = Settings(
        postgres_url=f"postgresql://shipmate:hunter2-secret@127.0.0.1:{silent}/postgres",
        mysql_url=f"mysql://shipmate:hunter2-secret@127.0.0.1:{silent}",
    )
    found = lines(settings)
    for name, variable in (
        ("postgres", "SHIPMATE_POSTGRES_URL"),
        ("mariadb", "SHIPMATE_MYSQL_URL"),
    ):
        ok, detail, fix = found[name]
        assert not ok and detail.startswith(f"{variable}'s server at 127.0.0.1:{silent}: ")
        assert "refused" in detail and "hunter2" not in detail
        assert fix == f"start it, or unset {variable}"

    answering = Settings(postgres_url=database_servers.postgres, mysql_url=database_servers.mysql)
    assert {name: line[0] for name, line in lines(answering).items()} == {
        "postgres": True,
        "mariadb": True,
    }
