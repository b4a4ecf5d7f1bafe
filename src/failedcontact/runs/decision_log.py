"""The decision log: one JSON line per assessment, enough to audit it and to replay it later.

A line records which pack (id, version, digest), which library and `holidays` versions and
which `as_of` gave which answer for which case: the case as the SHA-256 of its canonical
JSON, and the answer as the SHA-256 of the assessment's canonical JSON less its `pack` and
`engine` blocks, which say where the answer came from rather than what it is (so that a pack
edit or an upgrade that changes nothing for a case is not reported as a change for it). The
case itself is written only when asked for, with named fields masked.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ..errors import UsageError, did_you_mean
from ..model.case import EVENT_MODELS, Case, Child, Household

MASKED = "***"
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with keys sorted at every level and no whitespace: one text per value."""
    return orjson.dumps(value, option=_CANONICAL)


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


@dataclass(eq=False)
class DecisionLog:
    """An append-only JSONL file that many threads and processes may write at once.

    Each line goes to the kernel in one `write` on a file opened with `O_APPEND`, so lines
    from different writers never interleave and a killed process leaves every line it wrote
    whole. `sync=True` also forces each line to the disk (`fsync`), for power cuts.
    """

    path: Path
    sync: bool = False
    _fd: int = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, line: bytes) -> None:
        """Append one whole line (ending in a newline)."""
        with self._lock:
            written = os.write(self._fd, line)
            if written != len(line):  # a full disk: say so rather than leave half a line
                raise OSError(f"the decision log took {written} of {len(line)} bytes")
            if self.sync:
                os.fsync(self._fd)

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
