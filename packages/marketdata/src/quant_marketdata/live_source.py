"""The port of a live bar feed: source bars pushed to a callback from our own asyncio task.

A source connects, subscribes and hands each source bar to `on_bar` until `stop` is set; when
its connection fails or goes quiet it connects again after a `Backoff` delay (exponential with
full jitter, reset once bars flow again), so many processes do not reconnect in step and a
refusing server is not hammered. `reconnect()` cuts the current connection on request (the
staleness watchdog asks when a socket stays open but mute).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from quant_domain import Bar

BarHandler = Callable[[Bar], Awaitable[None]]


@dataclass(slots=True)
class Backoff:
    """Reconnect delays: uniform in [0, min(cap, base * 2**attempt)] seconds."""

    base: float = 1.0
    cap: float = 30.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        """The wait before the next attempt (and count the attempt)."""
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return self.rng.uniform(0.0, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class LiveBarSource(ABC):
    """A feed of source bars of `bar_length` for a fixed set of symbols."""

    name: str
    bar_length: timedelta
    """How long one source bar lasts (a minute for Alpaca, 5 s for IB's real-time bars)."""

    def __init__(self, symbols: list[str], backoff: Backoff | None = None) -> None:
        if not symbols:
            raise ValueError("a live source needs at least one symbol")
        self.symbols = symbols
        self.backoff = backoff or Backoff()
        self.connects = 0
        """Connections that completed their handshake (reconnects included)."""

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """Where the feed connects (for logs and the command's first line; no secrets)."""

    @abstractmethod
    async def run(self, on_bar: BarHandler, stop: asyncio.Event) -> None:
        """Connect, subscribe and deliver bars until `stop` is set, reconnecting after failures.

        Raises only for what no reconnect can fix (refused credentials: ConfigError).
        """

    @abstractmethod
    def reconnect(self) -> None:
        """Cut the current connection now; `run` connects again after its backoff delay."""

    async def pause(self, stop: asyncio.Event) -> None:
        """Wait the next backoff delay, or less if `stop` is set meanwhile."""
        delay = self.backoff.next_delay()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
