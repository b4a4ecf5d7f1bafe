"""The decision log: one JSON line per assessment, enough to audit it and to replay it later.

A line records which pack (id, version, digest), which library and `holidays` versions and
which `as_of` gave which answer for which case: the case as the SHA-256 of its canonical
JSON, and the answer as the SHA-256 of the assessment's canonical JSON less its `pack` and
`engine` blocks, which say where the answer came from rather than what it is (so that a pack
edit or an upgrade that changes nothing for a case is not reported as a change for it). The
case itself is written only when asked for, with named fields masked.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import rfc8785

from ..errors import UsageError, did_you_mean
from ..model.case import EVENT_MODELS, Case, Child, Household

MASKED = "***"


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (the JSON Canonicalization Scheme): one text per value, which a C#, Java or
    JavaScript system recomputes with its own JCS library, so every digest can be checked
    outside Python. `value` is JSON data, or the engine's plain answer (whose datetimes are
    first written as the JSON the answer is sent as)."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return rfc8785.dumps(orjson.loads(orjson.dumps(value)))


def sha256_of(data: bytes) -> str:
    """`sha256:` and the hex digest of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def case_digest(case: Any) -> str:
    """The digest of a case's canonical JSON (`case` as parsed JSON data)."""
    return sha256_of(canonical_json(case))


_PROVENANCE = frozenset({"pack", "engine"})


def answer_bytes(assessment: Mapping[str, Any]) -> bytes:
    """The canonical bytes of an assessment's answer: less its `pack` and `engine` blocks."""
    return canonical_json({k: v for k, v in assessment.items() if k not in _PROVENANCE})


def answer_digest(assessment: Mapping[str, Any]) -> str:
    """The digest of an assessment's answer (see `answer_bytes`)."""
    return sha256_of(answer_bytes(assessment))


@dataclass(frozen=True, slots=True)
class LogOptions:
    """What a decision line carries beyond the digests: the case, with these paths masked.

    A path is dotted (`child.date_of_birth`); `[]` stands for every item of a list
    (`events[].reason`).
    """

    include_case: bool = False
    mask: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for path in self.mask:
            if not path or any(not part for part in path.replace("[]", "").split(".")):
                raise UsageError(f"`{path}` is not a field path such as `events[].reason`")
            # A misspelt path would mask nothing and log the field it was meant to hide.
            if path not in MASKABLE:
                hint = did_you_mean(path, MASKABLE)
                raise UsageError(
                    f"`{path}` is not a field of the case"
                    + (f" ({hint})" if hint else "")
                    + "; a field path is `case_id`, `child.<field>`, `household.<field>`, "
                    "`flags`, `events` or `events[].<field>` (docs/contract.md)"
                )


def _maskable() -> frozenset[str]:
    """Every path a mask can name: the contract's case fields, nested ones, and the fields
    of any event type."""
    paths = set(Case.model_fields)
    paths |= {f"child.{name}" for name in Child.model_fields}
    paths |= {f"household.{name}" for name in Household.model_fields}
    paths |= {f"events[].{name}" for model in EVENT_MODELS for name in model.model_fields}
    return frozenset(paths)


MASKABLE = _maskable()


def masked_copy(data: Any, paths: Sequence[str]) -> tuple[Any, list[str]]:
    """A copy of `data` with each path's value replaced by `***`; and the paths that matched."""
    copy = orjson.loads(orjson.dumps(data))
    hit: list[str] = []
    for path in paths:
        if _mask(copy, [part for part in path.replace("[]", ".[]").split(".") if part]):
            hit.append(path)
    return copy, hit


def _mask(node: Any, parts: list[str]) -> bool:
    if not parts:
        return False
    head, rest = parts[0], parts[1:]
    if head == "[]":
        # a list, not a generator: every item is masked, not just up to the first hit
        return isinstance(node, list) and any([_mask(item, rest) for item in node])
    if not isinstance(node, dict) or head not in node:
        return False
    if not rest:
        node[head] = MASKED
        return True
    return _mask(node[head], rest)


def new_request_id() -> str:
    """A fresh request id (a random UUID)."""
    return str(uuid.uuid4())


def decision_line(
    assessment: Mapping[str, Any],
    case: Any,
    options: LogOptions,
    request_id: str,
    now: datetime | None = None,
) -> bytes:
    """One decision as a JSON line (with its newline); `case` is the case as parsed JSON."""
    record: dict[str, Any] = {
        "time": (now or datetime.now(UTC)).isoformat(),
        "request_id": request_id,
        "pack": assessment["pack"],
        "engine": assessment["engine"],
        "as_of": _iso(assessment["as_of"]),
        "case_sha256": case_digest(case),
        "assessment_digest": answer_digest(assessment),
    }
    if options.include_case:
        logged, hit = masked_copy(case, options.mask)
        record["case"] = logged
        record["masked"] = hit
    return orjson.dumps(record) + b"\n"


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


# The chain: each line's `chain` is the digest of the chain before it and of the line's own
# canonical JSON (less `chain`, with `seq`); the first line follows `GENESIS`.
GENESIS = "sha256:" + "0" * 64
_TAIL_BLOCK = 1 << 16  # bytes read at a time, backwards, to find the last line
_TAIL_LINES = 64  # torn or unreadable lines looked past, at the most, for the last chain

log = logging.getLogger(__name__)


def chain_digest(previous: str, record: Mapping[str, Any]) -> str:
    """The `chain` of a decision line: `sha256(previous chain, newline, canonical JSON of
    the line less its `chain` field)`."""
    content = {key: value for key, value in record.items() if key != "chain"}
    return sha256_of(previous.encode() + b"\n" + canonical_json(content))


@dataclass(eq=False)
class DecisionLog:
    """An append-only JSONL file that many threads and processes may write at once.

    Each line goes to the kernel in one `write` on a file opened with `O_APPEND`, under an
    exclusive `flock`, so lines from different writers never interleave. Each line gets
    `seq` (1, 2, ...) and `chain`, which chains it to the line before (`chain_digest`), so
    `replay` can tell a line edited, deleted or moved. A writer killed mid-line (or a full
    disk) can leave a torn last line: the next writer ends it with a newline before writing,
    so each decision still starts a line of its own, and says so in `warnings` and this
    module's logger. `sync=True` also forces each line to the disk (`fsync`), for power cuts.
    """

    path: Path
    sync: bool = False
    warnings: list[str] = field(init=False, default_factory=list)
    """What was found and mended on the way: a torn last line, ended with a newline."""
    _fd: int = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _end: int = field(init=False, repr=False, default=-1)  # the size after this one's last write
    _last: tuple[int, str] = field(init=False, repr=False, default=(0, GENESIS))  # seq, chain

    def __post_init__(self) -> None:
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with self._lock, self._locked():
            self._mend(os.fstat(self._fd).st_size)

    def write(self, line: bytes) -> None:
        """Append whole lines (each ending in a newline: one decision, or several), chained."""
        with self._lock, self._locked():
            size = os.fstat(self._fd).st_size
            if size != self._end:  # another writer came between: find where it left off
                size = self._mend(size)
                self._last = _last_link(self._fd, size)
            seq, chain = self._last
            out = []
            for one in line.splitlines(keepends=True):
                seq += 1
                linked, chain = _linked(one, seq, chain)
                out.append(linked)
            data = b"".join(out)
            written = os.write(self._fd, data)
            if written != len(data):  # a full disk: say so rather than leave half a line
                raise OSError(f"the decision log took {written} of {len(data)} bytes")
            if self.sync:
                os.fsync(self._fd)
            self._end, self._last = size + written, (seq, chain)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _mend(self, size: int) -> int:
        """End a torn last line with a newline, saying so; the size after."""
        if size == 0 or os.pread(self._fd, 1, size - 1) == b"\n":
            return size
        start = _line_start(self._fd, size)
        warning = (
            f"the decision log `{self.path}` ended in a torn line ({size - start:,} bytes from "
            f"byte {start:,}, with no newline: a writer was killed mid-line, or the disk was "
            "full); ended it with a newline so the next decision starts a line of its own "
            "(`failedcontact replay` names the torn line)"
        )
        os.write(self._fd, b"\n")
        self.warnings.append(warning)
        log.warning(warning)
        return size + 1

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _linked(line: bytes, seq: int, previous: str) -> tuple[bytes, str]:
    """A decision line with `seq` and `chain` added as its last fields; and the chain."""
    record = orjson.loads(line)
    if not isinstance(record, dict) or not line.endswith(b"}\n"):
        raise ValueError("a decision-log line is one JSON object on a line of its own")
    record.pop("chain", None)
    record["seq"] = seq
    chain = chain_digest(previous, record)
    tail = orjson.dumps({"seq": seq, "chain": chain})  # `{"seq":...,"chain":"..."}`
    body = line[:-2].rstrip()
    joint = b"," if body != b"{" else b""
    return body + joint + tail[1:] + b"\n", chain


def _line_start(fd: int, end: int) -> int:
    """Where the line that ends at byte `end` (its newline excluded) starts."""
    position = end
    while position > 0:
        start = max(0, position - _TAIL_BLOCK)
        found = os.pread(fd, position - start, start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        position = start
    return 0


def _last_link(fd: int, size: int) -> tuple[int, str]:
    """The `seq` and `chain` of the last chained line, looking past torn lines; a log
    with none (new, or written before lines were chained) starts again at `GENESIS`."""
    end = size - 1  # the last line's newline
    for _ in range(_TAIL_LINES):
        if end <= 0:
            break
        start = _line_start(fd, end)
        try:
            record = orjson.loads(os.pread(fd, end - start, start))
        except orjson.JSONDecodeError:
            end = start - 1  # a torn line: the chain goes on from the line before it
            continue
        seq, chain = (
            (record.get("seq"), record.get("chain")) if isinstance(record, dict) else (0, 0)
        )
        if isinstance(seq, int) and isinstance(chain, str):
            return seq, chain
        break  # an unchained line: start again
    return 0, GENESIS


@dataclass(slots=True)
class ChainCheck:
    """Follows a decision log's chain line by line (`check` each line's record in order).

    A line whose `chain` is the digest of the chain before it and its own content follows
    it untouched. Otherwise its `seq` tells what happened: the one expected (its content was
    edited), a later one (lines before it were deleted or moved), or an earlier one (lines
    were moved or copied). A line with no chain was written before lines were chained (or
    by an older version): counted, and the chain starts again after it, as a writer does.
    """

    seq: int = 0
    chain: str = GENESIS
    after: int = 0  # the line number of the last chained line
    chained: int = 0
    unchained: int = 0
    restart: int = 0  # the line number of the last unchained line, after which it starts again

    def check(self, number: int, record: Mapping[str, Any]) -> tuple[str, str | None]:
        """`("ok" | "unchained" | "edited" | "moved", why)`: `why` names a break, or None."""
        seq, chain = record.get("seq"), record.get("chain")
        if not isinstance(seq, int) or not isinstance(chain, str):
            self.unchained += 1
            why = None
            if self.after:
                why = (
                    f"it has no chain, though line {self.after} before it has: written by an "
                    "older version, or its chain was taken out"
                )
            self.seq, self.chain, self.after, self.restart = 0, GENESIS, 0, number
            return "unchained", why
        self.chained += 1
        expected, before, after, previous = self.seq + 1, self.seq, self.after, self.chain
        self.seq, self.chain, self.after = seq, chain, number
        if chain_digest(previous, record) == chain:
            return "ok", None
        where = f"#{before} (line {after})" if after else "the start of the log"
        if not after and self.restart:
            where = f"line {self.restart}, which has no chain"
        if seq == expected:
            return "edited", (
                f"edited after it was written: decision #{seq}'s content does not match its chain"
            )
        if seq > expected:
            return "moved", (
                f"decision #{seq} follows {where}: the {seq - expected:,} line(s) between were "
                "deleted or moved"
            )
        return "moved", f"decision #{seq} comes after {where}: lines were moved or copied"
