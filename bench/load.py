"""An asyncio load client on httpx: N simultaneous conversations, each a scripted patient
talking through one channel, every message timed from request to complete reply."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from bench.scenarios import BEGIN, Step


class BadReply(Exception):
    """A reply that is not an answer: an HTTP error, an empty or malformed reply."""


@dataclass
class Turn:
    """What a channel adapter gives back for one message: the reply's text and its options."""

    text: str
    options: list[str] = field(default_factory=list)  # what to send to choose option n


# An adapter sends one message of one conversation and returns the assistant's turn.
Send = Callable[[httpx.AsyncClient, str, str], Awaitable[Turn]]
# Run for a script's BEGIN step: a call being answered, say (timed like a message).
Begin = Callable[[httpx.AsyncClient, str], Awaitable[None]]


@dataclass
class Run:
    """One measured run: per-message latencies (seconds) and errors."""

    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    conversations: int = 0

    def percentile(self, p: float) -> float:
        """The p-th percentile in milliseconds (statistics' inclusive method)."""
        if len(self.latencies) < 2:
            return 1000 * (self.latencies[0] if self.latencies else float("nan"))
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return 1000 * cuts[int(p) - 1]

    def summary(self) -> dict:
        """The numbers, as written to bench.json."""
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "messages": len(self.latencies),
            "conversations": self.conversations,
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "seconds": round(self.seconds, 2),
            "throughput_per_s": round(len(self.latencies) / self.seconds, 2) if self.seconds else 0,
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
        }


async def run_load(
    name: str,
    send: Send,
    scripts: Sequence[Sequence[Step]],
    concurrency: int,
    seconds: float,
    sender_prefix: str,
    begin: Begin | None = None,
    max_messages: int | None = None,
    timeout_seconds: float = 60,
) -> Run:
    """Keep `concurrency` conversations going for `seconds` (or until `max_messages`), cycling
    through the scripts; each new conversation has a new sender."""
    run = Run(name, concurrency)
    counter = itertools.count()
    script_cycle = itertools.cycle(range(len(scripts)))
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency)
    deadline = time.monotonic() + seconds

    def done() -> bool:
        return time.monotonic() >= deadline or (
            max_messages is not None and len(run.latencies) + run.errors >= max_messages
        )

    async def converse(client: httpx.AsyncClient, sender: str, script: Sequence[Step]) -> None:
        """One conversation; it ends early at the deadline or on an error (the rest of the
        script would no longer make sense)."""
        turn = Turn("")
        for step in script:
            for _ in range(step.repeat):
                if done():
                    return
                started = time.perf_counter()
                try:
                    if step.text == BEGIN:
                        await begin(client, sender)
                    else:
                        turn = await send(client, sender, step.resolve(turn.options))
                except (httpx.HTTPError, BadReply, ValueError, KeyError) as error:
                    kind = f"{type(error).__name__}: {error}"[:80]
                    run.errors += 1
                    run.error_kinds[kind] = run.error_kinds.get(kind, 0) + 1
                    return
                run.latencies.append(time.perf_counter() - started)
                if not step.until or step.until in turn.text:
                    break

    async def patient(client: httpx.AsyncClient) -> None:
        while not done():
            sender = f"{sender_prefix}{next(counter):06d}"
            run.conversations += 1
            await converse(client, sender, scripts[next(script_cycle)])

    async with httpx.AsyncClient(limits=limits, timeout=timeout_seconds) as client:
        started = time.monotonic()
        await asyncio.gather(*(patient(client) for _ in range(concurrency)))
        run.seconds = time.monotonic() - started
    return run
