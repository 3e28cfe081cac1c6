"""Whether something answers on a local port: the dev stack, the doctor and the local
deploy target's router all ask it."""

from __future__ import annotations

import socket


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
