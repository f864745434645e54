"""A throwaway Redis server on loopback, from Debian's `redis-server` package, for tests and
`make cluster`: Rasa's lock store, so that several Rasa instances never handle two messages of
one conversation at the same time."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from stack.postgres import free_port


class RedisMissing(RuntimeError):
    """The Redis server is not installed."""


@dataclass
class RedisServer:
    """A Redis server in a temporary folder, listening on 127.0.0.1 only, keeping nothing on disk
    (locks live for seconds)."""

    directory: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, port: int | None = None) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisMissing(
                "Redis is not installed: run `make system-packages` "
                "(it runs `apt-get install redis-server` as root)"
            )
        server = cls(Path(tempfile.mkdtemp(prefix="clinic-redis-")), port or free_port())
        server.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(server.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(server.directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=(server.directory / "redis.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server._wait_ready()
        return server

    def _wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                log = (self.directory / "redis.log").read_text()
                raise RuntimeError(f"Redis exited on start: {log[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Redis did not start on port {self.port}")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
