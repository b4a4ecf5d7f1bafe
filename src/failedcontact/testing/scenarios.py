"""Pack scenarios: YAML files that state a case and the outcome the guidance expects."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..codes import Code
from ..engine.loader import Pack, load_pack
from ..errors import (
    CaseError,
    Diagnostic,
    PackError,
    ScenarioFileError,
)
from ..model.case_input import parse_case
from ..pack.schema import SchemaCodes, validation_diagnostics
from ..source.locate import is_pack_path
from ..source.reader import FileKind, Located, read_source
from .scenario_model import Expectation, ScenarioFile

_SCENARIO_SCHEMA = SchemaCodes(
    Code.SCENARIO_UNKNOWN_FIELD, Code.SCENARIO_MISSING_FIELD, Code.SCENARIO_SCHEMA
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One scenario as loaded: where it is written, what it runs and what it expects."""

    file: Path
    line: int
    name: str
    section: str
    pack: str
    as_of: datetime | None
    case: dict[str, Any] | None
    expect: Expectation

    @property
    def id(self) -> str:
        """A stable id for test reports: `file::name`."""
        return f"{self.file.parent.name}/{self.file.name}::{self.name}"


def load_scenarios(path: Path) -> list[Scenario]:
    """Read and validate every scenario in one file; raise `ScenarioFileError` with every problem.

    The pack defaults to the folder's name.
    """
    located = read_source(FileKind.SCENARIO, path)
    if isinstance(located, Diagnostic):
        raise ScenarioFileError([located])
    try:
        document = ScenarioFile.model_validate(_plain(located.data))
    except ValidationError as error:
        raise ScenarioFileError(_diagnostics(located, error)) from None
    default_pack = document.pack or path.parent.name
    found = []
    for index, item in enumerate(document.scenarios):
        line = located.where(("scenarios", index))[0]
        pack = item.pack or default_pack
        if is_pack_path(pack):
            pack = str((path.parent / pack).resolve())
        found.append(
            Scenario(path, line, item.name, item.section, pack, item.as_of, item.case, item.expect)
        )
    return found


def _diagnostics(source: Located, error: ValidationError) -> list[Diagnostic]:
    found = validation_diagnostics(source, error, ScenarioFile, _SCENARIO_SCHEMA, "the file")
    # a scenario that checks nothing always passes: it has its own code
    return [
        replace(d, code=Code.SCENARIO_ASSERTS_NOTHING) if "expect something" in d.message else d
        for d in found
    ]


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, datetime):
        return node.isoformat()
    return node


def run_scenario(scenario: Scenario, packs: dict[str, Pack] | None = None) -> list[str]:
    """Run one scenario; return the differences between expected and actual (none: it passed)."""
    return _run(scenario, packs)[0]


def _run(
    scenario: Scenario, packs: dict[str, Pack] | None
) -> tuple[list[str], Pack | None, set[str]]:
    """The problems, the pack assessed (if any) and the rules and patterns that fired."""
    expect = scenario.expect
    cache = packs if packs is not None else {}
    try:
        key = f"{scenario.pack}@{scenario.file.parent.resolve()}"
        pack = cache.get(key) or load_pack(scenario.pack, near=scenario.file.parent)
        cache[key] = pack
    except PackError as error:
        return _check_pack_error(expect, error), None, set()
    if expect.pack_error is not None:
        return ["expected a pack error, but the pack loaded"], pack, set()
    assert scenario.case is not None and scenario.as_of is not None  # the model requires them
    try:
        assessment = pack.assess(parse_case(scenario.case), scenario.as_of)
    except CaseError as error:
        return _check_case_error(expect, error), pack, set()
    fired = {t.id for t in assessment.trace if t.step in ("rule", "pattern")}
    if expect.error is not None:
        return [f"expected a case error at `{expect.error.path}`, but it assessed"], pack, fired
    problems = _compare(expect, assessment.model_dump(mode="json"))
    problems += _check_invariants(expect, pack, scenario.case, scenario.as_of)
    return problems, pack, fired


def _check_invariants(
    expect: Expectation, pack: Pack, case: dict[str, Any], as_of: datetime
) -> list[str]:
    if not expect.holds:
        return []
    from .verify import INVARIANTS

    problems = []
    for name in expect.holds:
        broken = INVARIANTS[name](pack, case, as_of)
        if broken is not None:
            problems.append(f"invariant `{name}` does not hold: {broken}")
    return problems


def _check_pack_error(expect: Expectation, error: PackError) -> list[str]:
    wanted = expect.pack_error
    if wanted is None:
        return [f"pack failed to load:\n{error}"]
    for diagnostic in error.diagnostics:
        if (
            diagnostic.code == wanted.code
            and wanted.line in (None, diagnostic.line)
            and wanted.column in (None, diagnostic.column)
            and (wanted.message_contains or "") in diagnostic.message
        ):
            return []
    return [f"no diagnostic matches {wanted.model_dump(exclude_none=True)}; got:\n{error}"]


def _check_case_error(expect: Expectation, error: CaseError) -> list[str]:
    wanted = expect.error
    if wanted is None:
        return [f"case rejected: {error}"]
    for issue in error.issues:
        if wanted.path in (None, issue.path) and wanted.message_contains in issue.message:
            return []
    return [
        f"no case error at `{wanted.path}` containing `{wanted.message_contains}`; got: {error}"
    ]


def _shown(value: Any) -> str:
    """A value as the scenario file writes it: `outstanding`, not `<ActionStatus...>`."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        value = value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return "null" if value is None else str(value)


def _instance(entries: list[dict[str, Any]], fields: Any) -> dict[str, Any] | None:
    """The entry an expectation is about: of a per-event action (contract 1.2: one entry per
    triggering event), the one with the expected `trigger`; else the first listed."""
    if fields is not None and "trigger" in fields.model_fields_set and len(entries) > 1:
        for entry in entries:
            if entry["trigger"]["event"] == fields.trigger:
                return entry
    return entries[0] if entries else None


def _compare(expect: Expectation, actual: dict[str, Any]) -> list[str]:
    problems: list[str] = []

    def same(label: str, want: Any, got: Any) -> None:
        if want != got:
            problems.append(f"{label}\n  - expected: {_shown(want)}\n  + actual:   {_shown(got)}")

    for key in ("risk_tier", "failed_contacts", "last_seen"):
        if expect.given(key):
            want = getattr(expect, key)
            same(key, want.value if key == "risk_tier" else want, actual[key])
    if expect.risk_reason_contains is not None:
        text = expect.risk_reason_contains
        if not any(text in reason for reason in actual["risk_reasons"]):
            problems.append(f"risk_reasons: none contains {text!r}: {actual['risk_reasons']}")
    by_id: dict[str, list[dict[str, Any]]] = {}
    for action in actual["actions"]:
        by_id.setdefault(action["id"], []).append(action)
    for action_id, fields in (expect.actions or {}).items():
        got = _instance(by_id.get(action_id, []), fields)
        if got is None:
            problems.append(
                f"action `{action_id}`: expected, but not required (required: {sorted(by_id)})"
            )
            continue
        for field in sorted(fields.model_fields_set) if fields is not None else ():
            want = getattr(fields, field)
            if field == "contacts":
                want = [contact.model_dump() for contact in want]
            value = got["trigger"]["event"] if field == "trigger" else got.get(field)
            same(f"action `{action_id}`.{field}", want, value)
    if expect.only_actions:
        extra = sorted(set(by_id) - set(expect.actions or {}))
        if extra:
            problems.append(f"actions not expected: {extra}")
    for action_id in expect.no_actions or ():
        if action_id in by_id:
            problems.append(f"action `{action_id}`: expected absent, but required")
    patterns = {p["id"]: p["events"] for p in actual["patterns"]}
    for pattern_id, events in (expect.patterns or {}).items():
        if pattern_id not in patterns:
            problems.append(f"pattern `{pattern_id}`: expected, not found")
        elif events is not None:
            same(f"pattern `{pattern_id}`.events", events, patterns[pattern_id])
    for pattern_id in expect.no_patterns or ():
        if pattern_id in patterns:
            problems.append(f"pattern `{pattern_id}`: expected absent, but found")
    if expect.given("closure"):
        want = expect.closure
        got_closure = actual["closure"]
        if want is None or got_closure is None:
            same("closure", want and want.model_dump(exclude_none=True), got_closure)
        else:
            same("closure.allowed", want.allowed, got_closure["allowed"])
            if want.unmet is not None:
                same("closure.unmet", want.unmet, [u["id"] for u in got_closure["unmet"]])
    return problems


def discover(root: Path) -> list[Path]:
    """Every scenario file under `root` (a file or folder), sorted."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.yaml") if "broken" not in p.parts)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One scenario's result."""

    scenario: Scenario
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when the actual assessment matched every expectation."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class Suite:
    """Results of a scenario run, per pack the rules and patterns no scenario fired, and the
    file each pack id was read from."""

    outcomes: tuple[Outcome, ...]
    coverage: dict[str, tuple[int, tuple[str, ...]]]  # pack id -> (total, missed ids)
    sources: dict[str, str]  # pack id -> which file, in words

    @property
    def failed(self) -> list[Outcome]:
        """The outcomes that did not pass."""
        return [o for o in self.outcomes if not o.passed]

    def percent(self, pack_id: str) -> float:
        """Share of the pack's rules and patterns some scenario exercised."""
        total, missed = self.coverage[pack_id]
        return 100.0 if total == 0 else 100.0 * (total - len(missed)) / total


def run_suite(files: list[Path], pattern: str | None = None) -> Suite:
    """Run every scenario in `files` (optionally only those whose id matches `pattern`).

    Every file is validated first, so a malformed file stops the run before anything runs.
    """
    selector = re.compile(pattern) if pattern else None
    loaded = [load_scenarios(file) for file in files]
    packs: dict[str, Pack] = {}
    outcomes = []
    fired: dict[str, set[str]] = {}
    first: dict[str, Pack] = {}
    for scenarios in loaded:
        for scenario in scenarios:
            if selector is not None and not selector.search(scenario.id):
                continue
            problems, pack, hit = _run(scenario, packs)
            if pack is not None:
                # ignore deliberately broken copies that share an id: the first one counts
                first.setdefault(pack.id, pack)
                if first[pack.id] is pack:
                    fired.setdefault(pack.id, set()).update(hit)
            outcomes.append(Outcome(scenario, tuple(problems)))
    coverage = {}
    sources = {}
    for pack_id, pack in first.items():
        document = pack.document
        ids = [r.id for r in document.rules] + [d.id for d in document.duties]
        ids += [p.id for p in document.patterns]
        coverage[pack_id] = (len(ids), tuple(i for i in ids if i not in fired[pack_id]))
        sources[pack_id] = pack.source.describe() if pack.source is not None else "(text)"
    return Suite(tuple(outcomes), coverage, sources)
