"""Clients of a deployed service that notice what a user would: a failed request while
versions switch, an idle keep-alive connection dropped by a router reload."""

from __future__ import annotations

import socket
import threading

import httpx


class Poller(threading.Thread):
    """A client that keeps reading through a deploy and counts what failed."""

    def __init__(self, url: str, writes: bool = False):
        super().__init__(daemon=True)
        self.url, self.failures, self.requests, self.writes = url, [], 0, writes
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5) as web:
            while not self.stop.is_set():
                try:
                    if self.writes and self.requests % 2:
                        answer = web.post(f"{self.url}/notes", json={"title": "busy"})
                    else:
                        answer = web.get(f"{self.url}/notes?limit=1")
                    if answer.status_code not in (200, 201):
                        self.failures.append(answer.status_code)
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                self.requests += 1

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join()


class KeepAlive:
    """One idle HTTP/1.1 connection to the router, as a browser or a pool keeps it."""

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").split(":")
        self.socket = socket.create_connection((host, int(port)), timeout=10)
        assert self.answers()

    def answers(self) -> bool:
        try:
            self.socket.sendall(b"GET /health HTTP/1.1\r\nHost: router\r\n\r\n")
            head = self.socket.recv(65536)
        except OSError:
            return False
        return head.startswith(b"HTTP/1.1 200")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.socket.close()
