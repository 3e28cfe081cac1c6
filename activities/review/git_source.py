"""Fetching an outside git repository to review, safely.

Only from the hosts SHIPMATE_REVIEW_GIT_HOSTS allows, over HTTPS (plain HTTP to loopback
only), as one shallow commit, within SHIPMATE_REVIEW_FETCH_SECONDS and
SHIPMATE_REVIEW_MAX_MB; what comes out is a plain tree of text files (no `.git`, no
binaries, no file over 1 MB, no link leading out of it), and every failure is a
`SourceRefused` in plain words with no credential in it.

Git runs with none of this machine's configuration (no system or global config, HOME a
fresh directory, a few variables, so no SHIPMATE_* secret reaches it), no prompts, hooks,
submodules, redirects (one could lead to a host nobody allowed) or protocol but HTTP(S).

The credentials (`user:token`) reach git through the environment and a credential helper
that echoes them, not through `http.extraHeader`: a header, like a URL, would sit on
git's command line, which every user of the machine can read (`ps`, /proc/<pid>/cmdline),
while a process's environment is readable only by its owner. And a helper answers only
when the server asks (a 401) for the one host git talks to, so a public repository
never receives the token.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from activities.scaffold.repository import CREDENTIALS_IN_URL
from shipmate.settings import Settings

MAX_FILE_BYTES = 1024 * 1024  # a file over this is skipped: nobody reviews it by reading
SNIFF_BYTES = 8192  # a NUL byte in these makes a file binary, as git itself decides
POLL_SECONDS = 0.1
BINARY_SUFFIXES = frozenset(
    ".png .jpg .jpeg .gif .bmp .ico .webp .tif .tiff .psd .pdf .zip .gz .tgz .bz2 .xz "
    ".7z .rar .jar .war .class .so .dylib .dll .exe .bin .o .a .pyc .pyo .whl .egg "
    ".mp3 .mp4 .mov .avi .wav .ogg .flac .woff .woff2 .ttf .otf .eot .sqlite .db".split()
)
REF = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/+-]{1,200}$")
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# What git may still need from this machine: its tools, a proxy, a CA bundle.
PASSED_ON = "PATH https_proxy HTTPS_PROXY http_proxy HTTP_PROXY no_proxy NO_PROXY".split()
PASSED_ON += ["SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO"]
CREDENTIAL_HELPER = (  # answers `get` only; the values are in the environment, never argv
    '!f() { test "$1" = get || exit 0; echo "username=$SHIPMATE_GIT_USER"; '
    'echo "password=$SHIPMATE_GIT_TOKEN"; }; f'
)
HOSTS_SETTING = "SHIPMATE_REVIEW_GIT_HOSTS"
CREDENTIALS_SETTING = "SHIPMATE_REVIEW_GIT_CREDENTIALS"


class SourceRefused(Exception):
    """The code could not be fetched; the message says why, without credentials."""


@dataclass
class CloneResult:
    commit: str
    files: int  # regular files kept
    size_bytes: int  # their total size
    skipped: list[str] = field(default_factory=list)  # "path (reason)", sorted


@dataclass
class _Fetch:
    url: str  # without credentials: those are refused
    host: str
    dest: Path
    env: dict[str, str]
    deadline: float
    seconds: int
    max_bytes: int
    secrets: tuple[str, ...]


def clone_for_review(
    settings: Settings, url: str, dest: Path, ref: str | None = None
) -> CloneResult:
    """Clone `url` (at `ref`: a branch, a tag or a full commit id; default: its HEAD) into
    `dest`, which must not exist or be empty; on any failure `dest` is gone."""
    credentials = _credentials(settings)
    secrets = (":".join(credentials), credentials[1]) if credentials else ()
    scheme, host = _check_url(settings, url, secrets)
    if ref is not None and not REF.match(ref):
        raise SourceRefused(f"{ref!r} is not a branch, tag or commit id")
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SourceRefused(f"{dest} is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="shipmate-review-git-"))
    seconds = settings.review_fetch_seconds
    try:
        env = _environment(home, credentials)
        limits = (time.monotonic() + seconds, seconds, settings.review_max_mb * 1024 * 1024)
        fetch = _Fetch(url, host, dest, env, *limits, secrets)
        return _clone(fetch, scheme, ref)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _clone(fetch: _Fetch, scheme: str, ref: str | None) -> CloneResult:
    options = [
        *("-c", "protocol.allow=never", "-c", f"protocol.{scheme}.allow=always"),
        *("-c", "protocol.file.allow=never", "-c", "core.hooksPath=/dev/null"),
        *("-c", "http.followRedirects=false", "-c", "submodule.recurse=false"),
        *("-c", "core.symlinks=true", "-c", "advice.detachedHead=false"),
    ]
    if fetch.secrets:
        options += ["-c", f"credential.helper={CREDENTIAL_HELPER}"]
    named = ref is not None and not FULL_SHA.match(ref)
    clone = ["clone", "--depth", "1", "--single-branch", "--no-tags", "--no-checkout"]
    clone += [f"--filter=blob:limit={MAX_FILE_BYTES}"]  # a server without filters ignores it
    clone += ["--branch", ref] if named else []
    target = ["--", fetch.url, str(fetch.dest)]
    _git(fetch, [*options, *clone, *target], in_repo=False, ref=ref, watch="all")
    commit = "HEAD"
    if ref is not None and not named:  # a commit id: fetched on its own, if the server lets
        fetch_one = ["fetch", "--depth", "1", "--no-tags", "origin", ref]
        _git(fetch, [*options, *fetch_one], ref=ref, watch="all")
        commit = ref
    commit = _git(fetch, ["rev-parse", "--verify", f"{commit}^{{commit}}"]).strip()
    _check_size(fetch)
    skipped = _check_out(fetch, commit)
    shutil.rmtree(fetch.dest / ".git")
    files, size, dropped = _keep_reviewable(fetch.dest)
    return CloneResult(
        commit=commit, files=files, size_bytes=size, skipped=sorted(skipped + dropped)
    )


def _check_out(fetch: _Fetch, commit: str) -> list[str]:
    """Write the commit's files of 1 MB or less, if together they fit the limit (a small
    pack can hold one blob at a thousand paths). Blobs the server held back (the filter's
    large ones) are never asked for: `git checkout` would go and fetch them."""
    listing = _git(fetch, ["rev-list", "--objects", "--missing=print", commit])
    missing = {line[1:] for line in listing.splitlines() if line.startswith("?")}
    tree = _git(fetch, ["ls-tree", "-r", "-z", "--full-tree", commit]).split("\0")
    entries = [(*meta.split(), path) for meta, path in (e.split("\t", 1) for e in tree if e)]
    present = {oid for _, kind, oid, _ in entries if kind == "blob" and oid not in missing}
    check = ["cat-file", "--batch-check=%(objectname) %(objectsize)"]
    sizes = dict(line.split() for line in _git(fetch, check, stdin="\n".join(present)).splitlines())
    paths, skipped, total = [], [], 0
    for _mode, kind, oid, path in entries:
        if kind == "commit":
            skipped.append(f"{path} (submodule)")
        elif oid in missing or (kind == "blob" and int(sizes[oid]) > MAX_FILE_BYTES):
            skipped.append(f"{path} (over 1 MB)")
        elif kind == "blob":
            paths.append(path)
            total += int(sizes[oid])
    if total > fetch.max_bytes:
        raise _too_large(fetch)
    _git(fetch, ["read-tree", commit])
    if paths:
        listed = "\0".join(paths) + "\0"
        _git(fetch, ["checkout-index", "-z", "--stdin"], watch="tree", stdin=listed)
    return skipped


def _keep_reviewable(root: Path) -> tuple[int, int, list[str]]:
    """Remove links leading out of the tree, binaries and files over 1 MB; count the rest."""
    top = os.path.realpath(root)
    files, size, skipped = 0, 0, []
    for folder, dirnames, filenames in os.walk(root):  # links to folders are not entered
        for name in [*dirnames, *filenames]:
            path = os.path.join(folder, name)
            shown = os.path.relpath(path, root).replace(os.sep, "/")
            if os.path.islink(path):
                target, leads_to = os.readlink(path), os.path.realpath(path)
                if os.path.isabs(target) or os.path.commonpath([top, leads_to]) != top:
                    os.unlink(path)
                    skipped.append(f"{shown} (link out of the repository)")
                continue
            if not os.path.isfile(path):
                continue  # a folder: walked in turn
            reason = _unreviewable(Path(path))
            if reason:
                os.unlink(path)
                skipped.append(f"{shown} ({reason})")
            else:
                files += 1
                size += os.path.getsize(path)
    return files, size, skipped


def _unreviewable(path: Path) -> str | None:
    if path.stat().st_size > MAX_FILE_BYTES:
        return "over 1 MB"
    if path.suffix.lower() in BINARY_SUFFIXES:
        return "binary"
    with path.open("rb") as opened:
        return "binary" if b"\0" in opened.read(SNIFF_BYTES) else None


def _check_url(settings: Settings, url: str, secrets: tuple[str, ...]) -> tuple[str, str]:
    """The URL's scheme and host:port when a review may clone it; SourceRefused if not."""
    shown = _mask(url, secrets)
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url) or url.startswith("-"):
        raise SourceRefused(f"{shown!r} is not a repository URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("ssh", "git+ssh", "ssh+git") or (not parts.scheme and ":" in url):
        raise SourceRefused(
            f"reviews clone over HTTPS only, not SSH: give the https:// URL of {shown}"
        )
    if scheme not in ("https", "http"):
        raise SourceRefused(f"reviews clone over HTTPS only; {shown} is not an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise SourceRefused(
            f"{shown} carries credentials: give the URL without them, and put them in "
            f"{CREDENTIALS_SETTING} instead"
        )
    try:
        hostname, port = parts.hostname or "", parts.port
    except ValueError:
        raise SourceRefused(f"{shown} has a malformed host or port") from None
    if not hostname:
        raise SourceRefused(f"{shown} names no host")
    if scheme == "http" and not _is_loopback(hostname):
        raise SourceRefused(f"reviews clone over HTTPS only; {shown} is plain http://")
    host = (f"[{hostname}]" if ":" in hostname else hostname) + (f":{port}" if port else "")
    allowed = [_normalised(entry) for entry in settings.review_git_hosts if entry.strip()]
    default = 443 if scheme == "https" else 80
    if not any(_matches(entry, hostname, port or default, default) for entry in allowed):
        now = ", ".join(settings.review_git_hosts) or "none"
        raise SourceRefused(
            f"reviews clone only from hosts in {HOSTS_SETTING} (now: {now}); {host} is not one"
        )
    return scheme, host


def _normalised(entry: str) -> tuple[str, int | None]:
    """An allowed host as written ("git.example.com", "127.0.0.1:8080", a URL even)."""
    text = entry.strip().lower()
    parts = urlsplit(text if "://" in text else f"//{text}")
    try:
        return parts.hostname or "", parts.port
    except ValueError:
        return "", None  # a malformed entry allows nothing


def _matches(entry: tuple[str, int | None], hostname: str, port: int, default: int) -> bool:
    name, allowed_port = entry
    return name == hostname.lower() and port == (allowed_port or default)


def _is_loopback(hostname: str) -> bool:
    try:
        return hostname.lower() == "localhost" or ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _credentials(settings: Settings) -> tuple[str, str] | None:
    """The user and token in SHIPMATE_REVIEW_GIT_CREDENTIALS; None when unset or empty."""
    text = settings.review_git_credentials and settings.review_git_credentials.get_secret_value()
    if not text:
        return None
    user, _, token = text.partition(":")
    if not user or not token or not text.isprintable():
        raise SourceRefused(f"{CREDENTIALS_SETTING} must be user:token")
    return user, token


def _environment(home: Path, credentials: tuple[str, str] | None) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home),
        LC_ALL="C",  # git's messages in English: they are read below
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",  # fail, never wait for a password
        GIT_NO_LAZY_FETCH="1",  # a newer git's own guard against fetching behind our back
    )
    if credentials:
        env.update(SHIPMATE_GIT_USER=credentials[0], SHIPMATE_GIT_TOKEN=credentials[1])
    return env


def _git(
    fetch: _Fetch,
    args: list[str],
    *,
    in_repo: bool = True,
    ref: str | None = None,
    watch: str | None = None,
    stdin: str | None = None,
) -> str:
    """Run git in its own process group, killed whole at the deadline or when what it
    writes outgrows the limit (watch: "all" of dest, or the "tree" without .git); its
    output, or SourceRefused with git's reason."""
    where = ["--git-dir", str(fetch.dest / ".git"), "--work-tree", str(fetch.dest)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            ["git", *(where if in_repo else []), *args],
            cwd=fetch.dest if in_repo else fetch.dest.parent,
            env=fetch.env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            if stdin is not None:
                process.stdin.write(stdin.encode())
                process.stdin.close()
            while process.poll() is None:
                if time.monotonic() > fetch.deadline:
                    raise SourceRefused(
                        f"fetching {fetch.url} timed out after {fetch.seconds} s "
                        "(SHIPMATE_REVIEW_FETCH_SECONDS)"
                    )
                if watch:
                    _check_size(fetch, tree_only=watch == "tree")
                time.sleep(POLL_SECONDS)
        finally:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)  # killed: it is gone at once
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            text = err.read().decode(errors="replace")
            raise SourceRefused(_mask(_reason(fetch, text, ref), fetch.secrets))
        return out.read().decode(errors="replace")


def _check_size(fetch: _Fetch, tree_only: bool = False) -> None:
    if _size(fetch.dest, tree_only) > fetch.max_bytes:
        raise _too_large(fetch)


def _too_large(fetch: _Fetch) -> SourceRefused:
    limit = fetch.max_bytes // (1024 * 1024)
    return SourceRefused(f"{fetch.url} is over the {limit} MB limit (SHIPMATE_REVIEW_MAX_MB)")


def _size(root: Path, tree_only: bool = False) -> int:
    total = 0
    for folder, dirs, names in os.walk(root):
        if tree_only and folder == str(root) and ".git" in dirs:
            dirs.remove(".git")
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                pass  # git renamed or removed it as we looked
    return total


def _reason(fetch: _Fetch, stderr: str, ref: str | None) -> str:
    """Git's complaint as a sentence someone in Slack can act on."""
    low = stderr.lower()
    if "could not read username" in low or "could not read password" in low:
        return f"the repository needs credentials: set {CREDENTIALS_SETTING}"
    if "authentication failed" in low or "returned error: 401" in low:
        if fetch.secrets:
            return f"{fetch.host} refused the credentials in {CREDENTIALS_SETTING}"
        return f"the repository needs credentials: set {CREDENTIALS_SETTING}"
    if "remote branch" in low and "not found" in low:
        return f"{fetch.url} has no branch or tag {ref}"
    if ref and ("couldn't find remote ref" in low or "not our ref" in low):
        return f"{fetch.url} has no commit {ref} (or does not let it be fetched alone)"
    if ("repository" in low and "not found" in low) or "returned error: 404" in low:
        return f"there is no repository at {fetch.url}"
    if "returned error: 403" in low:
        return f"{fetch.host} refused access to {fetch.url}"
    if re.search(r"returned error: 30\d", low):
        return f"{fetch.host} redirects {fetch.url} elsewhere: give the URL it leads to"
    if "could not resolve host" in low:
        return f"{fetch.host} could not be found"
    if "failed to connect" in low or "connection refused" in low:
        return f"{fetch.host} did not answer"
    said = [line.removeprefix("fatal: ").strip() for line in stderr.splitlines()]
    said = [line for line in said if line] or ["no reason given"]
    return f"git could not fetch {fetch.url}: {said[-1][:300]}"


def _mask(text: str, secrets: tuple[str, ...]) -> str:
    """Credentials out of a message: user:token@ in URLs, and the secrets wherever."""
    text = CREDENTIALS_IN_URL.sub(r"\1***@", text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
