"""A local git server over smart HTTP for tests: real `git http-backend` behind a
ThreadingHTTPServer on 127.0.0.1, as a git host on the internet would answer.

Repositories are made from a dict of files (bytes, text, or a `Link` for a symlink).
A private one asks for Basic credentials (a 401, as GitHub does); a stalled one never
answers, to test time limits; one may refuse partial clones (`--filter`), as some hosts
do. Every request's Authorization header is kept, so a test can see who sent a token,
and `on_request` lets a test look around while git is still running.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GIT = [
    "git",
    "-c",
    "user.name=Test",
    "-c",
    "user.email=test@localhost",
    "-c",
    "init.defaultBranch=main",
]


@dataclass(frozen=True)
class Link:
    """A symlink in a repository, pointing at `target` (anything, inside or not)."""

    target: str


@dataclass
class Repo:
    name: str
    url: str
    commit: str
    private: bool = False
    stalled: bool = False


@dataclass
class GitServer:
    root: Path
    user: str = "reviewer"
    token: str = "s3cr3t-t0ken-value"
    repos: dict[str, Repo] = field(default_factory=dict)
    authorizations: list[tuple[str, str | None]] = field(default_factory=list)  # path, header
    on_request: Callable[[str], None] | None = None  # called with each request's path

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.host = f"127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> GitServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._released.set()  # stalled requests end
        self._server.shutdown()
        self._server.server_close()

    @property
    def credentials(self) -> str:
        return f"{self.user}:{self.token}"

    def add_repo(
        self,
        name: str,
        files: dict[str, bytes | str | Link],
        *,
        private: bool = False,
        stalled: bool = False,
        allow_filter: bool = True,
        branch: str = "main",
    ) -> Repo:
        """A bare repository `name`.git with one commit holding `files` on `branch`."""
        bare = self.root / f"{name}.git"
        with tempfile.TemporaryDirectory(prefix="git-server-work-") as work:
            tree = Path(work)
            subprocess.run([*GIT, "init", "-q", "-b", branch, work], check=True)
            for path, content in files.items():
                target = tree / path
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, Link):
                    os.symlink(content.target, target)
                elif isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content)
            subprocess.run([*GIT, "-C", work, "add", "-A"], check=True)
            subprocess.run([*GIT, "-C", work, "commit", "-q", "-m", f"{name}"], check=True)
            shutil.rmtree(bare, ignore_errors=True)
            subprocess.run([*GIT, "clone", "-q", "--bare", work, str(bare)], check=True)
        config = ["git", "--git-dir", str(bare), "config"]
        subprocess.run([*config, "uploadpack.allowFilter", str(allow_filter).lower()], check=True)
        subprocess.run([*config, "http.receivepack", "false"], check=True)
        head = subprocess.run(
            ["git", "--git-dir", str(bare), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        repo = Repo(name, f"http://{self.host}/{name}.git", head, private, stalled)
        self.repos[name] = repo
        return repo

    def _repo_of(self, path: str) -> Repo | None:
        first = path.lstrip("/").split("/", 1)[0]
        return self.repos.get(first.removesuffix(".git"))

    def _authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(self.credentials.encode()).decode()
        return header == f"Basic {expected}"


def _handler(server: GitServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            header = self.headers.get("Authorization")
            server.authorizations.append((path, header))
            if server.on_request is not None:
                server.on_request(path)
            repo = server._repo_of(path)
            if repo is not None and repo.stalled:
                server._released.wait(120)  # say nothing until the test is over
                return
            if repo is not None and repo.private and not server._authorized(header):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._backend(path, query, repo)

        def _backend(self, path: str, query: str, repo: Repo | None) -> None:
            env = {
                "PATH": os.environ.get("PATH", os.defpath),
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "GATEWAY_INTERFACE": "CGI/1.1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REMOTE_ADDR": self.client_address[0],
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            }
            if repo is not None and repo.private:
                env["REMOTE_USER"] = server.user
            body = self._body()
            env["CONTENT_LENGTH"] = str(len(body))
            answer = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60
            ).stdout
            head, _, payload = answer.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = answer.partition(b"\n\n")
            lines = head.decode("latin-1").splitlines()
            fields = [line.split(":", 1) for line in lines if ":" in line]
            status = next((v.strip() for k, v in fields if k.lower() == "status"), "200 OK")
            code, _, reason = status.partition(" ")
            self.send_response(int(code), reason)
            for name, value in fields:
                if name.lower() not in ("status", "content-length"):
                    self.send_header(name, value.strip())
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a size or time limit)

        def _body(self) -> bytes:
            if self.command != "POST":
                return b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    return Handler
