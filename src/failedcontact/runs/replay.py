"""Replay a decision log: assess every logged decision again and name each answer that changed.

Two answers are the same when their canonical bytes are (`decision_log.answer_bytes`), so a
difference is byte for byte. Each difference says why it may have changed: the pack's
digest, the library's version or the `holidays` version differs from the logged one; when
none does, the change is unexplained, which is a bug to report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from .._version import ENGINE_VERSIONS
from ..engine.evaluate import evaluate
from ..errors import CaseError
from ..model.case_input import parse_case
from .decision_log import ChainCheck, answer_digest, case_digest
from .releases import Shelf


@dataclass(frozen=True, slots=True)
class Difference:
    """One logged decision whose answer is different today."""

    line: int
    request_id: str
    case_sha256: str
    pack: str  # `id version` as logged
    replayed_with: str  # `id version` replayed with
    reasons: tuple[str, ...]
    logged_digest: str
    replayed_digest: str | None  # None when the case no longer validates

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "line": self.line,
            "request_id": self.request_id,
            "case_sha256": self.case_sha256,
            "pack": self.pack,
            "replayed_with": self.replayed_with,
            "reasons": list(self.reasons),
            "logged_digest": self.logged_digest,
            "replayed_digest": self.replayed_digest,
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A log line that could not be replayed, and why (nothing is passed over silently)."""

    line: int
    why: str


@dataclass(frozen=True, slots=True)
class Break:
    """A line that is whole but not where the chain says it was written: lines before it
    were deleted, or lines were moved (it is replayed all the same)."""

    line: int
    why: str


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay found."""

    decisions: int
    same: int
    differences: tuple[Difference, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())
    breaks: tuple[Break, ...] = ()
    chained: int = 0  # lines with a chain (`seq` and `chain`)
    unchained: int = 0  # lines written before lines were chained

    @property
    def clean(self) -> bool:
        """True when every logged decision was replayed and gave the same answer, and the
        chain shows no line deleted or moved."""
        return not self.differences and not self.skipped and not self.breaks

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "decisions": self.decisions,
            "same": self.same,
            "differ": len(self.differences),
            "skipped": len(self.skipped),
            "differences": [d.as_dict() for d in self.differences],
            "skipped_lines": [{"line": s.line, "why": s.why} for s in self.skipped],
            "chain": {
                "chained": self.chained,
                "unchained": self.unchained,
                "breaks": [{"line": b.line, "why": b.why} for b in self.breaks],
            },
        }


def index_cases(lines: Iterable[bytes]) -> tuple[dict[str, Any], list[Skipped]]:
    """Cases by the digest of their canonical JSON, from JSONL; and the lines that are not JSON."""
    cases: dict[str, Any] = {}
    bad: list[Skipped] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            bad.append(Skipped(number, f"cases line {number} is not JSON: {error}"))
            continue
        cases[case_digest(data)] = data
    return cases, bad


def replay(
    log_lines: Iterable[bytes], shelf: Shelf, cases: Mapping[str, Any] | None = None
) -> ReplayReport:
    """Assess each logged decision again with the shelf's packs and compare the answers.

    Every line is accounted for, and a bad one never stops the rest: a torn line, one that
    is not a decision (the wrong shape) or one edited after it was written is skipped with
    why; one after deleted or moved lines is replayed and named in `breaks`.
    """
    decisions = same = 0
    differences: list[Difference] = []
    skipped: list[Skipped] = []
    breaks: list[Break] = []
    chain = ChainCheck()
    for number, line in enumerate(log_lines, start=1):
        if not line.strip():
            continue
        decisions += 1
        checked = _checked_line(number, line, chain, breaks)
        outcome = (
            checked
            if isinstance(checked, Skipped)
            else _replay_line(number, checked, shelf, cases or {})
        )
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        elif isinstance(outcome, Difference):
            differences.append(outcome)
        else:
            same += 1
    return ReplayReport(
        decisions,
        same,
        tuple(differences),
        tuple(skipped),
        tuple(breaks),
        chain.chained,
        chain.unchained,
    )


def _checked_line(
    number: int, line: bytes, chain: ChainCheck, breaks: list[Break]
) -> Skipped | dict[str, Any]:
    """Why the line cannot be replayed (torn, edited, the wrong shape); or its record."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        torn = "torn: the log ends part way through it" if not line.endswith(b"\n") else "torn"
        return Skipped(
            number,
            f"not a whole decision line (JSONDecodeError: {error}); {torn} (a writer killed "
            "mid-line leaves one)",
        )
    if not isinstance(record, dict):
        return Skipped(number, f"not a decision line: a JSON {_kind(record)}, not an object")
    status, why = chain.check(number, record)
    if status == "edited":
        return Skipped(number, f"{why}; not replayed (it is not the decision that was logged)")
    if why is not None:
        breaks.append(Break(number, why))
    problem = _shape_problem(record)
    return Skipped(number, f"not a decision line: {problem}") if problem else record


# A decision line's fields and what each must be, for replay.
_OBJECT_FIELDS = {"pack": ("id", "version", "digest"), "engine": ()}
_TEXT_FIELDS = ("as_of", "case_sha256", "assessment_digest")


def _shape_problem(record: Mapping[str, Any]) -> str | None:
    """What is wrong with a decision line's shape, naming the field; None if nothing."""
    for name, keys in _OBJECT_FIELDS.items():
        value = record.get(name)
        wanted = f"an object with {', '.join(f'`{k}`' for k in keys)}" if keys else "an object"
        if not isinstance(value, dict):
            return f"`{name}` is {_described(value)}, expected {wanted}"
        for key in keys:
            if not isinstance(value.get(key), str):
                return f"`{name}.{key}` is {_described(value.get(key))}, expected text"
    for name in _TEXT_FIELDS:
        if not isinstance(record.get(name), str):
            return f"`{name}` is {_described(record.get(name))}, expected text"
    try:
        datetime.fromisoformat(record["as_of"])
    except ValueError:
        return f"`as_of` is `{record['as_of']}`, expected an ISO 8601 date and time"
    if "masked" in record and not isinstance(record["masked"], list):
        return f"`masked` is {_described(record['masked'])}, expected a list of field paths"
    return None


def _described(value: Any) -> str:
    if value is None:
        return "missing"
    text = orjson.dumps(value).decode()
    return f"a {_kind(value)} ({text[:40]}{'...' if len(text) > 40 else ''})"


def _kind(value: Any) -> str:
    kinds = {str: "string", bool: "boolean", int: "number", float: "number", list: "list"}
    return kinds.get(type(value), "object")


def _replay_line(
    number: int, record: dict[str, Any], shelf: Shelf, cases: Mapping[str, Any]
) -> Difference | Skipped | None:
    logged_pack, engine = record["pack"], record["engine"]
    case_sha, logged_digest = record["case_sha256"], record["assessment_digest"]
    as_of = datetime.fromisoformat(record["as_of"])
    case = cases.get(case_sha)
    if case is None and "case" in record and not record.get("masked"):
        case = record["case"]
    if case is None:
        why = "its case was logged with masked fields" if record.get("masked") else "no case"
        return Skipped(number, f"{why}: give it with --cases (sha `{case_sha}`)")
    try:
        pack = shelf.get(logged_pack["id"], logged_pack["version"])
    except LookupError:
        try:
            pack = shelf.get(logged_pack["id"])
        except LookupError as error:
            return Skipped(number, str(error))
    logged_name = f"{logged_pack['id']} {logged_pack['version']}"
    reasons = _reasons(logged_pack, engine, pack.version, pack.digest)
    common = (number, str(record.get("request_id", "")), case_sha, logged_name)
    try:
        answer = evaluate(pack.compiled, parse_case(case), as_of)
    except CaseError as error:
        invalid = ("the case is no longer valid: " + str(error),)
        replayed = f"{pack.id} {pack.version}"
        return Difference(*common, replayed, invalid + reasons, logged_digest, None)
    digest = answer_digest(answer)
    if digest == logged_digest:
        return None
    return Difference(
        *common,
        f"{pack.id} {pack.version}",
        reasons or ("unexplained: the same pack, library and calendar gave another answer",),
        logged_digest,
        digest,
    )


def _reasons(
    logged_pack: Mapping[str, str], engine: Mapping[str, str], version: str, digest: str
) -> tuple[str, ...]:
    reasons = []
    if logged_pack["digest"] != digest:
        reasons.append(
            f"pack changed: {logged_pack['id']} {logged_pack['version']} "
            f"({logged_pack['digest'][:19]}) is now {version} ({digest[:19]})"
        )
    if engine.get("library") != ENGINE_VERSIONS["library"]:
        reasons.append(
            f"library changed: {engine.get('library')} is now {ENGINE_VERSIONS['library']}"
        )
    if engine.get("holidays") != ENGINE_VERSIONS["holidays"]:
        reasons.append(
            f"calendar changed: holidays {engine.get('holidays')} is now "
            f"{ENGINE_VERSIONS['holidays']}"
        )
    return tuple(reasons)
