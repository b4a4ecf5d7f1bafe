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
from .decision_log import answer_digest, case_digest
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
class ReplayReport:
    """What a replay found."""

    decisions: int
    same: int
    differences: tuple[Difference, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())

    @property
    def clean(self) -> bool:
        """True when every logged decision was replayed and gave the same answer."""
        return not self.differences and not self.skipped

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "decisions": self.decisions,
            "same": self.same,
            "differ": len(self.differences),
            "skipped": len(self.skipped),
            "differences": [d.as_dict() for d in self.differences],
            "skipped_lines": [{"line": s.line, "why": s.why} for s in self.skipped],
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
    """Assess each logged decision again with the shelf's packs and compare the answers."""
    decisions = same = 0
    differences: list[Difference] = []
    skipped: list[Skipped] = []
    for number, line in enumerate(log_lines, start=1):
        if not line.strip():
            continue
        decisions += 1
        outcome = _replay_line(number, line, shelf, cases or {})
        if isinstance(outcome, Skipped):
            skipped.append(outcome)
        elif isinstance(outcome, Difference):
            differences.append(outcome)
        else:
            same += 1
    return ReplayReport(decisions, same, tuple(differences), tuple(skipped))


def _replay_line(
    number: int, line: bytes, shelf: Shelf, cases: Mapping[str, Any]
) -> Difference | Skipped | None:
    try:
        record = orjson.loads(line)
        logged_pack, engine = record["pack"], record["engine"]
        case_sha, logged_digest = record["case_sha256"], record["assessment_digest"]
        as_of = datetime.fromisoformat(record["as_of"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        return Skipped(number, f"not a whole decision line ({type(error).__name__}: {error})")
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
