"""An ``openpws serve`` process of a test run's own: on a free port of 127.0.0.1, on a SQLite
file in a directory the caller gives (and throws away), with an admin token generated for it."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from openpws.testing.client import OpenpwsError, Server

# Passwords of throwaway accounts guard nothing: store them with a small scrypt cost, so that
# creating accounts and logging in cost milliseconds, not a tenth of a second each. A cost set in
# the environment wins.
TEST_SCRYPT_COST = 2**10
# The port is chosen before the server binds it: another process may take it meanwhile.
ATTEMPTS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalServer:
    """The process, its log and the Server to call it by. ``stop()`` ends it."""

    def __init__(self, server: Server, process: subprocess.Popen[bytes], log: Path) -> None:
        self.server = server
        self.process = process
        self.log = log

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(directory: Path, *, timeout: float = 60.0) -> LocalServer:
    """Start ``openpws serve`` on ``directory``/openpws.db and wait until it answers /health."""
    token = secrets.token_urlsafe(24)
    database = f"sqlite:///{(directory / 'openpws.db').as_posix()}"
    environment = {**os.environ, "OPENPWS_ADMIN_TOKEN": token}
    environment.setdefault("OPENPWS_SCRYPT_COST", str(TEST_SCRYPT_COST))
    for attempt in range(1, ATTEMPTS + 1):
        port = free_port()
        log = directory / f"openpws-serve-{port}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "openpws", "serve", "--database", database, "--host", "127.0.0.1",
                 "--port", str(port), "--workers", "1"],
                stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment)
        local = LocalServer(Server(f"http://127.0.0.1:{port}", token), process, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if local.server.healthy():
                return local
            time.sleep(0.05)
        exited = process.poll() is not None
        local.stop()
        output = log.read_text(errors="replace")
        if exited and "address already in use" in output.lower() and attempt < ATTEMPTS:
            continue
        how = f"exited ({process.returncode})" if exited else f"did not answer /health within {timeout:g} s"
        raise OpenpwsError(f"openpws serve {how} (log {log}):\n{output}")
    raise AssertionError("unreachable")
