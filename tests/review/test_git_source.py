"""Fetching an outside repository to review: real git against a real smart-HTTP server
(testkit/git_server), from allowed hosts only, within size and time limits, with the
credentials in no message and nothing left running or lying around after a refusal."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest

from activities.review.git_source import CloneResult, SourceRefused, clone_for_review
from shipmate.settings import Settings, load_settings
from testkit.git_server import GitServer, Link

APP = "def handler(event):\n    return {'ok': True}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with GitServer(tmp_path_factory.mktemp("git-server")) as running:
        running.add_repo("orders", {"app/main.py": APP, "README.md": "# orders\n"})
        running.add_repo("billing", {"billing.py": "TOTAL = 1\n"}, private=True)
        yield running


def review_settings(server: GitServer, **changes) -> Settings:
    values = {"review_git_hosts": [server.host], "review_fetch_seconds": 30, **changes}
    return Settings(**values)


def running_with(text: str) -> list[str]:
    """Processes whose command line mentions `text` (a URL, a destination)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in line:
                found.append(line)
    return found


def test_a_public_repository_comes_as_plain_files_at_its_commit(server, tmp_path):
    dest = tmp_path / "code"
    cloned = clone_for_review(review_settings(server), server.repos["orders"].url, dest)
    assert isinstance(cloned, CloneResult)
    assert cloned.commit == server.repos["orders"].commit
    assert (dest / "app" / "main.py").read_text() == APP
    assert sorted(p.name for p in dest.iterdir()) == ["README.md", "app"]  # no .git
    assert (cloned.files, cloned.skipped) == (2, [])
    assert cloned.size_bytes == len(APP) + len("# orders\n")


def test_a_branch_is_cloned_by_name_and_a_missing_one_is_a_plain_refusal(server, tmp_path):
    repo = server.add_repo("releases", {"v.txt": "two\n"}, branch="release-2")
    cloned = clone_for_review(review_settings(server), repo.url, tmp_path / "a", "release-2")
    assert cloned.commit == repo.commit and (tmp_path / "a" / "v.txt").read_text() == "two\n"
    with pytest.raises(SourceRefused, match="has no branch or tag nope"):
        clone_for_review(review_settings(server), repo.url, tmp_path / "b", "nope")
    assert not (tmp_path / "b").exists()


def test_a_host_not_in_the_list_is_refused_naming_the_setting(server, tmp_path):
    dest = tmp_path / "code"
    settings = review_settings(server, review_git_hosts=["github.com"])
    with pytest.raises(SourceRefused) as refused:
        clone_for_review(settings, "https://git.example.com/acme/billing.git", dest)
    assert str(refused.value) == (
        "reviews clone only from hosts in SHIPMATE_REVIEW_GIT_HOSTS (now: github.com); "
        "git.example.com is not one"
    )
    with pytest.raises(SourceRefused, match=r"\(now: none\); 127\.0\.0\.1:\d+ is not one"):
        clone_for_review(Settings(), server.repos["orders"].url, dest)
    other_port = server.repos["orders"].url.replace(server.host, "127.0.0.1:1")
    with pytest.raises(SourceRefused, match="127.0.0.1:1 is not one"):
        clone_for_review(review_settings(server), other_port, dest)
    assert not dest.exists() and running_with(server.host) == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("git@github.com:acme/billing.git", "HTTPS only, not SSH"),
        ("ssh://git@github.com/acme/billing.git", "HTTPS only, not SSH"),
        ("file:///etc", "not an https:// URL"),
        ("ext::sh -c touch% /tmp/pwned", "not a repository URL"),
        ("http://github.com/acme/billing.git", "is plain http://"),
        ("--upload-pack=touch /tmp/pwned", "not a repository URL"),
    ],
)
def test_only_https_urls_are_cloned(server, tmp_path, url, says):
    settings = review_settings(server, review_git_hosts=["github.com", server.host])
    with pytest.raises(SourceRefused, match=says):
        clone_for_review(settings, url, tmp_path / "code")
    assert not (tmp_path / "code").exists()


def test_credentials_in_the_url_are_refused_and_never_repeated(server, tmp_path):
    url = server.repos["billing"].url.replace("://", f"://{server.credentials}@")
    with pytest.raises(SourceRefused) as refused:
        clone_for_review(review_settings(server), url, tmp_path / "code")
    message = str(refused.value)
    assert "SHIPMATE_REVIEW_GIT_CREDENTIALS" in message and "***@" in message
    assert server.token not in message and not (tmp_path / "code").exists()


def test_a_private_repository_needs_the_credentials_setting(server, tmp_path):
    repo = server.repos["billing"]
    with pytest.raises(SourceRefused) as refused:
        clone_for_review(review_settings(server), repo.url, tmp_path / "without")
    assert str(refused.value) == (
        "the repository needs credentials: set SHIPMATE_REVIEW_GIT_CREDENTIALS"
    )
    assert not (tmp_path / "without").exists()

    wrong = review_settings(server, review_git_credentials=f"{server.user}:not-{server.token}")
    with pytest.raises(SourceRefused) as refused_wrong:
        clone_for_review(wrong, repo.url, tmp_path / "wrong")
    assert "refused the credentials in SHIPMATE_REVIEW_GIT_CREDENTIALS" in str(refused_wrong.value)

    settings = review_settings(server, review_git_credentials=server.credentials)
    cloned = clone_for_review(settings, repo.url, tmp_path / "with")
    assert cloned.commit == repo.commit and (tmp_path / "with" / "billing.py").exists()
    for refusal in (refused.value, refused_wrong.value):
        shown = f"{refusal} {refusal!r} {refusal.__cause__!r} {refusal.__context__!r}"
        assert server.token not in shown and server.credentials not in shown


def test_the_token_is_on_no_command_line_while_git_runs(server, tmp_path):
    basic = base64.b64encode(server.credentials.encode()).decode()  # as http.extraHeader has it
    seen: list[str] = []
    server.on_request = lambda path: seen.extend(
        [*running_with(server.token), *running_with(basic), "request"]
    )
    try:
        settings = review_settings(server, review_git_credentials=server.credentials)
        clone_for_review(settings, server.repos["billing"].url, tmp_path / "code")
    finally:
        server.on_request = None
    assert seen and set(seen) == {"request"}


def test_a_missing_repository_is_a_plain_refusal(server, tmp_path):
    url = f"http://{server.host}/nothing-here.git"
    with pytest.raises(SourceRefused) as refused:
        clone_for_review(review_settings(server), url, tmp_path / "code")
    assert str(refused.value) == f"there is no repository at {url}"
    assert not (tmp_path / "code").exists()


def test_the_token_goes_only_to_a_host_that_asks_for_it(server, tmp_path):
    settings = review_settings(server, review_git_credentials=server.credentials)
    server.authorizations.clear()
    clone_for_review(settings, server.repos["orders"].url, tmp_path / "code")
    assert server.authorizations and all(header is None for _, header in server.authorizations)


def test_a_repository_over_the_size_limit_is_refused_and_removed(server, tmp_path):
    noise = {f"data/part{n}.txt": os.urandom(600_000).hex()[:900_000] for n in range(4)}
    repo = server.add_repo("huge", noise)
    dest = tmp_path / "code"
    with pytest.raises(SourceRefused) as refused:
        clone_for_review(review_settings(server, review_max_mb=1), repo.url, dest)
    assert str(refused.value) == f"{repo.url} is over the 1 MB limit (SHIPMATE_REVIEW_MAX_MB)"
    assert not dest.exists() and running_with(repo.url) == []


def test_a_stalled_server_times_out_within_the_limit(server, tmp_path):
    repo = server.add_repo("stuck", {"a.py": "x = 1\n"}, stalled=True)
    dest = tmp_path / "code"
    started = time.monotonic()
    with pytest.raises(SourceRefused) as refused:
        clone_for_review(review_settings(server, review_fetch_seconds=2), repo.url, dest)
    assert time.monotonic() - started < 4
    assert str(refused.value) == (
        f"fetching {repo.url} timed out after 2 s (SHIPMATE_REVIEW_FETCH_SECONDS)"
    )
    assert not dest.exists() and running_with(repo.url) == []


@pytest.mark.parametrize("allow_filter", [True, False], ids=["filtering", "no-filter"])
def test_binary_and_large_files_are_skipped_and_listed(server, tmp_path, allow_filter):
    files = {
        "src/app.py": APP,
        "logo.png": b"\x89PNG\r\n\x1a\n",
        "blob.dat": b"header\0" + b"x" * 100,
        "fixtures/big.json": "[" + "1," * 600_000 + "1]",
    }
    repo = server.add_repo(f"mixed-{allow_filter}", files, allow_filter=allow_filter)
    dest = tmp_path / "code"
    cloned = clone_for_review(review_settings(server), repo.url, dest)
    assert cloned.skipped == [
        "blob.dat (binary)",
        "fixtures/big.json (over 1 MB)",
        "logo.png (binary)",
    ]
    assert (cloned.files, cloned.size_bytes) == (1, len(APP))
    kept = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert kept == ["src/app.py"]


def test_links_leading_out_of_the_tree_are_removed(server, tmp_path):
    files = {
        "app/main.py": APP,
        "app/escape": Link("../../../../../etc/passwd"),
        "app/absolute": Link("/etc/hostname"),
        "app/inside": Link("main.py"),
        "up": Link(".."),
    }
    repo = server.add_repo("links", files)
    dest = tmp_path / "code"
    cloned = clone_for_review(review_settings(server), repo.url, dest)
    assert cloned.skipped == [
        "app/absolute (link out of the repository)",
        "app/escape (link out of the repository)",
        "up (link out of the repository)",
    ]
    assert os.readlink(dest / "app" / "inside") == "main.py"
    assert not os.path.lexists(dest / "app" / "escape")
    assert not os.path.lexists(dest / "up")


def test_the_hosts_setting_reads_a_comma_separated_list_or_json(monkeypatch):
    monkeypatch.setenv("SHIPMATE_REVIEW_GIT_HOSTS", "github.com, git.example.com:8443")
    assert load_settings().review_git_hosts == ["github.com", "git.example.com:8443"]
    monkeypatch.setenv("SHIPMATE_REVIEW_GIT_HOSTS", '["gitlab.com"]')
    assert load_settings().review_git_hosts == ["gitlab.com"]
    monkeypatch.delenv("SHIPMATE_REVIEW_GIT_HOSTS")
    assert (load_settings().review_git_hosts, load_settings().review_max_mb) == ([], 50)


def test_a_commit_id_is_fetched_on_its_own(server, tmp_path):
    repo = server.repos["orders"]
    cloned = clone_for_review(review_settings(server), repo.url, tmp_path / "a", repo.commit)
    assert cloned.commit == repo.commit and (tmp_path / "a" / "app" / "main.py").exists()
    with pytest.raises(SourceRefused, match=f"has no commit {'0' * 40}"):
        clone_for_review(review_settings(server), repo.url, tmp_path / "b", "0" * 40)
    assert not (tmp_path / "b").exists()


def test_a_small_download_that_unpacks_over_the_limit_is_refused(server, tmp_path):
    repo = server.add_repo("bomb", {f"gen/{n}.sql": "SELECT 1;\n" * 90_000 for n in range(3)})
    dest = tmp_path / "code"
    with pytest.raises(SourceRefused, match="over the 1 MB limit"):
        clone_for_review(review_settings(server, review_max_mb=1), repo.url, dest)
    assert not dest.exists()
