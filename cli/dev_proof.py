"""How the command line knows a `shipmate dev` is live: a secret of its run, proved on a socket.

Each run makes a random secret, kept in its memory and in its marker
(`<state dir>/dev-stack.json`, mode 0600), and while it runs answers on a Unix socket
beside it (`dev-stack.sock`, mode 0600): a caller sends a random nonce, the stack
answers HMAC-SHA256(secret, nonce). A caller believes the stack only when the answer
matches the secret in the marker within PROOF_TIMEOUT, and only a marker that is a file
of its own user's that nobody else may read. A marker left by a stack that died (nobody
answers), one copied from an earlier run (the running stack knows another secret), or
one written by hand naming a live pid (nobody knows its secret) proves nothing.

A socket address holds about 107 bytes; under a longer state dir the socket is a Linux
abstract one named by a hash of the state dir. It has no file and no permissions, which
costs nothing: an answer is an HMAC of the asker's own nonce under a secret only the
marker's owner can read. The secret is never logged or printed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
import stat
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from shipmate.settings import SettingsError

MARKER = "dev-stack.json"
SOCKET = "dev-stack.sock"
PROOF_TIMEOUT = 2.0  # seconds a caller waits for the stack's answer
NONCE_BYTES = 32
_SUN_PATH_MAX = 107  # sun_path holds 108 bytes on Linux; one is kept for the NUL


def marker_path(state_dir: Path) -> Path:
    return state_dir.resolve() / MARKER


def socket_address(state_dir: Path) -> str | bytes:
    """The socket's path in the state dir, or an abstract name when that path is too long."""
    path = state_dir.resolve() / SOCKET
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        return str(path)
    digest = hashlib.sha256(os.fsencode(state_dir.resolve())).hexdigest()[:32]
    return b"\0shipmate-dev-" + digest.encode()


def read_marker(state_dir: Path) -> dict | None:
    """The marker's fields, when it is a regular file of this user's that no one else may
    read (a secret others could read proves nothing); None otherwise."""
    return _load(marker_path(state_dir), private=True)


def _load(path: Path, private: bool) -> dict | None:
    try:  # O_NONBLOCK: a FIFO put in its place cannot hang the command line
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if private and (info.st_uid != os.geteuid() or info.st_mode & 0o077):
            return None
        try:
            fields = json.loads(file.read(65536))
        except (OSError, ValueError):
            return None
    if not isinstance(fields, dict) or not isinstance(fields.get("secret"), str):
        return None
    return fields


def answers(state_dir: Path, secret: str, timeout: float | None = None) -> bool:
    """Whether the process on the stack's socket knows `secret`, asked with a fresh nonce."""
    timeout = PROOF_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    nonce = secrets.token_bytes(NONCE_BYTES)
    expected = hmac.new(secret.encode(), nonce, hashlib.sha256).digest()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(socket_address(state_dir))
            sock.sendall(nonce)
            answer = _receive(sock, len(expected), deadline)
    except (OSError, ValueError):
        return False
    return hmac.compare_digest(answer, expected)


def _receive(sock: socket.socket, size: int, deadline: float) -> bytes:
    data = b""
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(size - len(data))
        if not chunk:
            break  # closed early: a short answer, which never matches
        data += chunk
    return data


@contextmanager
def proving(state_dir: Path, fields: dict):
    """Held while a stack runs: its marker (with `fields` and a new secret) and the socket
    that proves it, both removed on exit when still this run's."""
    state = state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    running = read_marker(state)
    if running is not None and answers(state, running["secret"]):
        raise SettingsError(
            f"a `shipmate dev` (pid {running.get('pid')}) is already running with state in {state}"
        )
    secret = secrets.token_hex(32)
    listener, socket_file = _listen(state)
    stop = threading.Event()
    try:
        _write_marker(marker_path(state), {**fields, "pid": os.getpid(), "secret": secret})
        # a daemon that wakes every 0.2 s: it never holds up the stack's shutdown
        answering = threading.Thread(
            target=_answer, args=(listener, secret.encode(), stop), daemon=True
        )
        answering.start()
        try:
            yield
        finally:
            stop.set()
            answering.join(timeout=2)
    finally:
        listener.close()
        _remove_if_ours(state, secret, socket_file)


def _listen(state: Path) -> tuple[socket.socket, os.stat_result | None]:
    """The bound, listening socket, mode 0600 before anyone can connect; and its file."""
    address = socket_address(state)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if isinstance(address, str):
            _remove_stale_socket(Path(address))
        listener.bind(address)
        if isinstance(address, str):
            os.chmod(address, 0o600)
        listener.listen(8)
        return listener, os.stat(address) if isinstance(address, str) else None
    except OSError as exc:
        listener.close()
        where = address if isinstance(address, str) else "an abstract socket"
        raise SettingsError(f"`shipmate dev` cannot listen on {where}: {exc}") from None


def _remove_stale_socket(path: Path) -> None:
    """A socket left by a stack that died (no live one answered); nothing else is removed."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise SettingsError(f"{path} is in the way of `shipmate dev`'s socket; remove it")
    path.unlink()


def _write_marker(path: Path, fields: dict) -> None:
    """Made afresh, 0600 from the start: O_EXCL never writes through a link or into a file
    someone else made in a shared state dir."""
    try:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise SettingsError(f"`shipmate dev` cannot write its marker {path}: {exc}") from None
    with os.fdopen(fd, "w") as out:
        os.fchmod(fd, 0o600)  # whatever the umask
        json.dump(fields, out)


def _answer(listener: socket.socket, secret: bytes, stop: threading.Event) -> None:
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return  # closed under it
        with conn:  # one at a time, each given a second to ask
            try:
                conn.settimeout(1)
                nonce = _receive(conn, NONCE_BYTES, time.monotonic() + 1)
                if len(nonce) == NONCE_BYTES:
                    conn.sendall(hmac.new(secret, nonce, hashlib.sha256).digest())
            except OSError:
                pass


def _remove_if_ours(state: Path, secret: str, socket_file: os.stat_result | None) -> None:
    """A later run's marker and socket stay: they prove that run, not this one."""
    marker = _load(marker_path(state), private=False)
    if marker is not None and hmac.compare_digest(marker["secret"].encode(), secret.encode()):
        marker_path(state).unlink(missing_ok=True)
    if socket_file is None:
        return
    path = Path(socket_address(state))
    try:
        now = path.lstat()
    except FileNotFoundError:
        return
    if (now.st_dev, now.st_ino) == (socket_file.st_dev, socket_file.st_ino):
        path.unlink(missing_ok=True)
