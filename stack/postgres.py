"""A throwaway PostgreSQL server on loopback, from Debian's packages, for tests and `make cluster`.

Debian's `postgresql` package installs the server binaries under /usr/lib/postgresql/<version>/bin
(`make system-packages` installs it when missing). As root, the server runs as the `postgres`
user, which the package creates: PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def server_bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin directory."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not candidates:
        raise PostgresMissing(
            "PostgreSQL is not installed: run `make system-packages` "
            "(it runs `apt-get install postgresql` as root)"
        )
    return Path(candidates[-1]).parent


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


def free_port() -> int:
    """A TCP port nobody is listening on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only."""

    directory: Path
    port: int
    user: str = "clinic"

    @property
    def admin_url(self) -> str:
        """The URL of the server's `postgres` database."""
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """The URL of one database on this server."""
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls, port: int | None = None) -> PostgresServer:
        """Initialise and start a fresh cluster (trust authentication on loopback only)."""
        bin_dir = server_bin_dir()
        directory = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
        os.chmod(directory, 0o755)
        server = cls(directory, port or free_port())
        as_postgres = os.geteuid() == 0
        if as_postgres:
            shutil.chown(directory, "postgres", "postgres")
        data = directory / "data"
        server._run(
            as_postgres,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                server.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
        )
        options = (
            f"-p {server.port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        server._run(
            as_postgres,
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(directory / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        server._as_postgres, server._bin_dir, server._options = as_postgres, bin_dir, options
        server._wait_ready()
        return server

    def _run(self, as_postgres: bool, command: list[str]) -> None:
        if as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not start on port {self.port}")

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres"
        )
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)

    def _pg_ctl(self, *args: str) -> None:
        self._run(
            self._as_postgres,
            [str(self._bin_dir / "pg_ctl"), "-D", str(self.directory / "data"), *args],
        )

    def halt(self) -> None:
        """Stop the server, keeping its data (a database outage, in tests)."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a halted server again with the options it had."""
        self._pg_ctl(
            "-o", self._options, "-l", str(self.directory / "server.log"), "-w", "-t", "60", "start"
        )
        self._wait_ready()

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._run(
                self._as_postgres,
                [
                    str(self._bin_dir / "pg_ctl"),
                    "-D",
                    str(self.directory / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
            )
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
