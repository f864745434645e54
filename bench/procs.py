"""Resident memory of a process and its children, read from /proc (Linux), and a sampler that
keeps the peak while a command runs."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def children(pid: int) -> list[int]:
    """Every descendant of a process."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            direct = [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        for child in direct:
            found += [child, *children(child)]
    return found


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total = 0
    for each in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Timed:
    """A finished command: wall-clock seconds, peak resident memory sampled, exit status."""

    seconds: float
    peak_rss_bytes: int
    returncode: int


def run_timed(command: Sequence[str], cwd: Path, env: dict[str, str], log: Path) -> Timed:
    """Run a command to the end, sampling its memory (and its children's) every 0.2 s."""
    peak = 0
    with log.open("w") as out:
        started = time.monotonic()
        process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=out, stderr=out)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, rss_bytes(process.pid))
                stop.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = process.wait()
        seconds = time.monotonic() - started
        stop.set()
        sampler.join()
    return Timed(seconds, peak, returncode)
