"""Start the assistant's processes together, wait until each answers, stop them all together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# Patients' messages never leave the clinic's machines: Rasa's telemetry is off everywhere.
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONUNBUFFERED": "1",
}

# TensorFlow's own thread pools cost more than they give for one small message at a time on a
# 2-core machine: one thread each gave `make bench` 23% more REST throughput at 20 conversations
# and a 13% lower median (the README's "Measured" section).
RASA_ENV = {"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"}

COLOURS = {"rasa": "35", "actions": "36", "gateway": "33"}


@dataclass
class Service:
    """One process of the stack and the URL that answers once it is ready."""

    name: str
    command: Sequence[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    cwd: Path = ROOT

    def start(self, log: IO[str] | None = None) -> None:
        """Start the process in its own process group, copying its output line by line."""
        env = {**os.environ, **QUIET_ENV, **self.env}
        self.process = subprocess.Popen(
            list(self.command),
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        threading.Thread(target=self._copy_output, args=(log,), daemon=True).start()

    def _copy_output(self, log: IO[str] | None) -> None:
        assert self.process is not None and self.process.stdout is not None
        colour = COLOURS.get(self.name, "37")
        tty = log is None and sys.stdout.isatty()
        prefix = f"\033[{colour}m{self.name:>8} |\033[0m " if tty else f"{self.name:>8} | "
        for line in self.process.stdout:
            target = log if log is not None else sys.stdout
            target.write(prefix + line)
            target.flush()

    def is_ready(self) -> bool:
        """Whether the health URL answers with a success status."""
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def has_exited(self) -> bool:
        """Whether the process has stopped."""
        return self.process is not None and self.process.poll() is not None

    def stop(self, grace_seconds: float = 15) -> None:
        """Ask the process group to stop, and kill it if it has not within the grace period."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


class StartupFailed(RuntimeError):
    """A service exited or did not become ready in time."""


class ProcessGroup:
    """Services started in order, each waited for before the next; stopped in reverse."""

    def __init__(self, services: Sequence[Service], log: IO[str] | None = None):
        self.services = list(services)
        self.log = log
        self.ready_after: dict[str, float] = {}  # seconds from start to ready, per service

    def start(self, timeout_seconds: float = 240) -> None:
        """Start every service and wait until all are ready (raise StartupFailed if not)."""
        for service in self.services:
            service.start(self.log)
        try:
            self.wait_ready(self.services, timeout_seconds)
        except StartupFailed:
            self.stop()
            raise

    def start_again(self, services: Sequence[Service], timeout_seconds: float = 240) -> None:
        """Start some stopped services again and wait until each answers."""
        for service in services:
            service.start(self.log)
        self.wait_ready(services, timeout_seconds)

    def wait_ready(self, services: Sequence[Service], timeout_seconds: float) -> None:
        """Wait until each service answers; raise StartupFailed if one exits or time runs out."""
        started = time.monotonic()
        deadline = started + timeout_seconds
        waiting = list(services)
        while waiting:
            for service in list(waiting):
                if service.has_exited():
                    raise StartupFailed(f"{service.name} exited during start-up")
                if service.is_ready():
                    waiting.remove(service)
                    self.ready_after[service.name] = time.monotonic() - started
            if time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                raise StartupFailed(f"not ready after {timeout_seconds:.0f}s: {names}")
            time.sleep(0.5)

    def first_exited(self) -> Service | None:
        """A service that has stopped on its own, if any."""
        return next((s for s in self.services if s.has_exited()), None)

    def stop(self) -> None:
        """Stop every service, last started first."""
        for service in reversed(self.services):
            service.stop()

    def __enter__(self) -> ProcessGroup:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def action_server(port: int = 5055) -> Service:
    """The Rasa SDK action server on loopback."""
    return Service(
        name="actions",
        command=[str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
        health_url=f"http://127.0.0.1:{port}/health",
        env={"SANIC_HOST": "127.0.0.1"},
    )


def rasa_server(
    model: Path,
    port: int = 5005,
    endpoints: Path = ROOT / "endpoints.yml",
    extra: Sequence[str] = (),
) -> Service:
    """The Rasa server with the REST channel, on loopback only."""
    return Service(
        name="rasa",
        command=[
            str(BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(ROOT / "credentials.yml"),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        health_url=f"http://127.0.0.1:{port}/",
        env=dict(RASA_ENV),
    )


def write_endpoints(path: Path, actions_port: int, tracker_db: Path) -> Path:
    """The project's endpoints.yml with another action server port and tracker database, for
    a stack of its own (tests, `make bench`): every other setting stays as the clinic runs it."""
    import yaml

    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    endpoints["tracker_store"]["db"] = str(tracker_db)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return path


def gateway_server(port: int = 8000, env: dict[str, str] | None = None) -> Service:
    """The gateway (FastAPI under uvicorn): the clinic API, staff API and health."""
    return Service(
        name="gateway",
        command=[sys.executable, "-m", "gateway"],
        health_url=f"http://127.0.0.1:{port}/health",
        env={"GATEWAY_PORT": str(port), **(env or {})},
    )


def serve_until_interrupted(
    starting: str,
    start: Callable[[], None],
    banner: Callable[[], str],
    first_exited: Callable[[], Service | None],
    stop: Callable[[], None],
) -> int:
    """Start, print the banner, then wait for Ctrl-C (or SIGTERM) or a process that stops on its
    own; stop everything either way. The exit status of `make run` and `make cluster`."""
    stopping = False

    def _stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(starting, flush=True)
    try:
        start()
    except StartupFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(banner(), flush=True)
    try:
        while not stopping:
            exited = first_exited()
            if exited is not None:
                print(
                    f"error: {exited.name} stopped unexpectedly; stopping the rest", file=sys.stderr
                )
                return 1
            time.sleep(0.5)
    finally:
        print("Stopping...", flush=True)
        stop()
    return 0
