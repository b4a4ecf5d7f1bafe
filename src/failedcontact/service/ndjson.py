"""NDJSON over HTTP both ways at once: request lines in groups, and a response that streams
while the request body is still coming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

NDJSON = "application/x-ndjson"


class DuplexStream(StreamingResponse):
    """A streamed response that reads its request body while it answers.

    Starlette's `StreamingResponse` also waits on `receive` for a disconnect, and so takes
    the request body's messages from under a generator that is still reading them.
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self.body_iterator:
            data = chunk.encode(self.charset) if isinstance(chunk, str) else bytes(chunk)
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def line_groups(
    chunks: AsyncIterator[bytes], limit: int, group: int = 64
) -> AsyncIterator[list[tuple[int, bytes | None]]]:
    """NDJSON lines from a byte stream, numbered, in groups; a line over `limit` is None."""
    pending = bytearray()
    number = 0
    batch: list[tuple[int, bytes | None]] = []
    oversized = False
    async for chunk in chunks:
        pending += chunk
        while True:
            end = pending.find(b"\n")
            if end < 0:
                if len(pending) > limit:
                    oversized, pending = True, bytearray()
                break
            number += 1
            line = bytes(pending[:end])
            del pending[: end + 1]
            batch.append((number, None if oversized or len(line) > limit else line))
            oversized = False
            if len(batch) >= group:
                yield batch
                batch = []
        if batch:  # what has come so far goes at once: the client sees it while it sends
            yield batch
            batch = []
    if pending or oversized:  # a whitespace-only tail is a line, as the CLI reads it
        number += 1
        batch.append((number, None if oversized else bytes(pending)))
    if batch:
        yield batch
