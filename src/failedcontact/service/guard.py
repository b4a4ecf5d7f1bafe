"""Connection and time limits, so a flood of idle or slow connections cannot starve callers.

- A header timeout: a connection that has not sent a whole request head within
  `header_timeout` seconds of connecting (or of its last answer, on a kept-alive connection)
  is closed. uvicorn's own keep-alive timeout stops at the first byte, so a client that
  dribbles its headers would otherwise hold the connection for ever.
- A body timeout: a request whose next body chunk does not arrive within `body_timeout`
  seconds is answered 408 (`service.timeout`), or cut off if its answer has begun.
- A connection cap: above `max_connections`, the connection idle longest (no request in
  flight) is closed to make room, so idle connections give way to working ones and the
  process never runs out of file descriptors. `open_file_budget` keeps the cap under the
  open-file limit, raising the soft limit to the hard one first.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from ..codes import Code
from .problems import Problem

log = logging.getLogger("failedcontact.service")
_RESERVED_FILES = 64  # for packs, logs, the decision log and the listening socket
# asyncio accepts up to this many connections at a time before their protocols run (and
# close any over the cap): the cap leaves room for two such bursts under the file limit
ACCEPT_BURST = 128


def open_file_budget(wanted: int) -> int:
    """Raise the soft open-file limit to the hard one; the connection cap that fits under it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return max(1, min(wanted, soft - _RESERVED_FILES - 2 * ACCEPT_BURST))


def guarded_protocol(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a header timeout and a connection cap."""

    class Guarded(H11Protocol):
        _timer: asyncio.TimerHandle | None = None
        _armed_for: Any = None
        _idle_since = 0.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()
            if len(self.connections) > max_connections:
                self._make_room()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._timer is not None:
                self._timer.cancel()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def _waiting(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._armed_for, self._idle_since = self.cycle, self.loop.time()
            self._timer = self.loop.call_later(header_timeout, self._header_timeout)

        def _header_timeout(self) -> None:
            self._timer = None
            if self.cycle is self._armed_for and self._waiting():
                self._close()

        def _close(self) -> None:
            if not self.transport.is_closing():
                self.transport.close()

        def _make_room(self) -> None:
            idle = [c for c in self.connections if isinstance(c, Guarded) and c._waiting()]
            victim = min(idle, key=lambda c: c._idle_since) if idle else self
            victim._close()

    return Guarded


def timed_receive(receive: Any, body_timeout: float) -> Any:
    """`receive`, with each body chunk due within `body_timeout` seconds (else a 408)."""
    done = False

    async def receive_in_time() -> Any:
        nonlocal done
        if done:
            return await receive()
        try:
            message = await asyncio.wait_for(receive(), body_timeout)
        except TimeoutError:
            done = True
            raise Problem(
                408,
                Code.SERVICE_TIMEOUT,
                "Request timeout",
                f"no part of the body arrived for {body_timeout:g} seconds",
                headers={"Connection": "close"},
            ) from None
        done = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return receive_in_time
