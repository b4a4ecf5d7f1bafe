"""Pack scenarios: YAML files that state a case and the outcome the guidance expects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .case_input import parse_case
from .errors import CaseError, PackError
from .loader import Pack, load_pack

_KNOWN_KEYS = frozenset({"name", "section", "pack", "as_of", "case", "expect"})
_EXPECT_KEYS = frozenset(
    {
        "risk_tier",
        "risk_reason_contains",
        "failed_contacts",
        "last_seen",
        "actions",
        "only_actions",
        "no_actions",
        "patterns",
        "no_patterns",
        "closure",
        "error",
        "pack_error",
    }
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One scenario: where it is written, what it runs and what it expects."""

    file: Path
    line: int
    name: str
    section: str
    pack: str
    as_of: datetime | None
    case: dict[str, Any] | None
    expect: dict[str, Any]

    @property
    def id(self) -> str:
        """A stable id for test reports: `file::name`."""
        return f"{self.file.parent.name}/{self.file.name}::{self.name}"


class ScenarioFileError(ValueError):
    """A scenario file is malformed (not a failure of the pack it tests)."""


def load_scenarios(path: Path) -> list[Scenario]:
    """Read every scenario in one file; the pack defaults to the folder's name."""
    yaml = YAML(typ="rt", pure=True)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"))
    except YAMLError as error:
        raise ScenarioFileError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("scenarios"), list):
        raise ScenarioFileError(f"{path}: expected a mapping with a `scenarios` list")
    default_pack = document.get("pack", path.parent.name)
    found = []
    for index, item in enumerate(document["scenarios"]):
        line = item.lc.line + 1 if hasattr(item, "lc") else 1
        where = f"{path}:{line}"
        if not isinstance(item, dict):
            raise ScenarioFileError(f"{where}: scenario {index} is not a mapping")
        unknown = set(item) - _KNOWN_KEYS
        if unknown:
            raise ScenarioFileError(f"{where}: unknown scenario keys {sorted(unknown)}")
        expect = _plain(item.get("expect") or {})
        unknown = set(expect) - _EXPECT_KEYS
        if unknown:
            raise ScenarioFileError(f"{where}: unknown expectation keys {sorted(unknown)}")
        for required in ("name", "section", "expect"):
            if required not in item:
                raise ScenarioFileError(f"{where}: scenario needs `{required}`")
        pack = str(item.get("pack", default_pack))
        if pack.endswith((".yaml", ".yml")):
            pack = str((path.parent / pack).resolve())
        as_of = item.get("as_of")
        if isinstance(as_of, str):
            try:
                as_of = datetime.fromisoformat(as_of)
            except ValueError:
                raise ScenarioFileError(f"{where}: `as_of` is not an ISO 8601 time") from None
        found.append(
            Scenario(
                path,
                line,
                str(item["name"]),
                str(item["section"]),
                pack,
                as_of,
                _plain(item.get("case")),
                expect,
            )
        )
    return found


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
) -> tuple[list[str], str | None, set[str]]:
    """The problems, the pack id assessed (if any) and the rules and patterns that fired."""
    expect = scenario.expect
    cache = packs if packs is not None else {}
    try:
        key = f"{scenario.pack}@{scenario.file.parent}"
        pack = cache.get(key) or load_pack(scenario.pack, near=scenario.file.parent)
        cache[key] = pack
    except PackError as error:
        return _check_pack_error(expect, error), None, set()
    if "pack_error" in expect:
        return ["expected a pack error, but the pack loaded"], pack.id, set()
    if scenario.case is None or scenario.as_of is None:
        return ["a scenario that assesses a case needs `case` and `as_of`"], pack.id, set()
    try:
        assessment = pack.assess(parse_case(scenario.case), scenario.as_of)
    except CaseError as error:
        return _check_case_error(expect, error), pack.id, set()
    fired = {t.id for t in assessment.trace if t.step in ("rule", "pattern")}
    if "error" in expect:
        path = expect["error"].get("path")
        return [f"expected a case error at `{path}`, but it assessed"], pack.id, fired
    actual = assessment.model_dump(mode="json")
    return _compare(expect, actual), pack.id, fired


def _check_pack_error(expect: dict[str, Any], error: PackError) -> list[str]:
    wanted = expect.get("pack_error")
    if wanted is None:
        return [f"pack failed to load:\n{error}"]
    for diagnostic in error.diagnostics:
        if all(str(getattr(diagnostic, key)) == str(value) for key, value in wanted.items()):
            return []
    return [f"no diagnostic matches {wanted}; got:\n{error}"]


def _check_case_error(expect: dict[str, Any], error: CaseError) -> list[str]:
    wanted = expect.get("error")
    if wanted is None:
        return [f"case rejected: {error}"]
    path = wanted.get("path")
    contains = wanted.get("message_contains", "")
    for issue in error.issues:
        if (path is None or issue.path == path) and contains in issue.message:
            return []
    return [f"no case error at `{path}` containing `{contains}`; got: {error}"]


def _compare(expect: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    problems: list[str] = []

    def same(label: str, want: Any, got: Any) -> None:
        if want != got:
            problems.append(f"{label}\n  - expected: {want!r}\n  + actual:   {got!r}")

    for key in ("risk_tier", "failed_contacts", "last_seen"):
        if key in expect:
            same(key, expect[key], actual[key])
    if "risk_reason_contains" in expect:
        text = expect["risk_reason_contains"]
        if not any(text in reason for reason in actual["risk_reasons"]):
            problems.append(f"risk_reasons: none contains {text!r}: {actual['risk_reasons']}")
    by_id = {a["id"]: a for a in actual["actions"]}
    for action_id, fields in (expect.get("actions") or {}).items():
        got = by_id.get(action_id)
        if got is None:
            problems.append(
                f"action `{action_id}`: expected, but not required (required: {sorted(by_id)})"
            )
            continue
        for field, want in (fields or {}).items():
            value = got["trigger"]["event"] if field == "trigger" else got.get(field)
            same(f"action `{action_id}`.{field}", want, value)
    if expect.get("only_actions"):
        extra = sorted(set(by_id) - set(expect.get("actions") or {}))
        if extra:
            problems.append(f"actions not expected: {extra}")
    for action_id in expect.get("no_actions", []):
        if action_id in by_id:
            problems.append(f"action `{action_id}`: expected absent, but required")
    patterns = {p["id"]: p["events"] for p in actual["patterns"]}
    for pattern_id, events in (expect.get("patterns") or {}).items():
        if pattern_id not in patterns:
            problems.append(f"pattern `{pattern_id}`: expected, not found")
        elif events is not None:
            same(f"pattern `{pattern_id}`.events", events, patterns[pattern_id])
    for pattern_id in expect.get("no_patterns", []):
        if pattern_id in patterns:
            problems.append(f"pattern `{pattern_id}`: expected absent, but found")
    if "closure" in expect:
        want = expect["closure"]
        got_closure = actual["closure"]
        if want is None or got_closure is None:
            same("closure", want, got_closure)
        else:
            same("closure.allowed", want.get("allowed"), got_closure["allowed"])
            if "unmet" in want:
                same("closure.unmet", want["unmet"], [u["id"] for u in got_closure["unmet"]])
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
    """Results of a scenario run and, per pack, the rules and patterns no scenario fired."""

    outcomes: tuple[Outcome, ...]
    coverage: dict[str, tuple[int, tuple[str, ...]]]  # pack id -> (total, missed ids)

    @property
    def failed(self) -> list[Outcome]:
        """The outcomes that did not pass."""
        return [o for o in self.outcomes if not o.passed]

    def percent(self, pack_id: str) -> float:
        """Share of the pack's rules and patterns some scenario exercised."""
        total, missed = self.coverage[pack_id]
        return 100.0 if total == 0 else 100.0 * (total - len(missed)) / total


def run_suite(files: list[Path], pattern: str | None = None) -> Suite:
    """Run every scenario in `files` (optionally only those whose id matches `pattern`)."""
    selector = re.compile(pattern) if pattern else None
    packs: dict[str, Pack] = {}
    outcomes = []
    fired: dict[str, set[str]] = {}
    for file in files:
        for scenario in load_scenarios(file):
            if selector is not None and not selector.search(scenario.id):
                continue
            problems, pack_id, hit = _run(scenario, packs)
            if pack_id is not None:
                fired.setdefault(pack_id, set()).update(hit)
            outcomes.append(Outcome(scenario, tuple(problems)))
    coverage = {}
    for key, pack in packs.items():
        if pack.id not in fired or key != _canonical(packs, pack.id):
            continue
        document = pack.document
        ids = [r.id for r in document.rules] + [d.id for d in document.duties]
        ids += [p.id for p in document.patterns]
        coverage[pack.id] = (len(ids), tuple(i for i in ids if i not in fired[pack.id]))
    return Suite(tuple(outcomes), coverage)


def _canonical(packs: dict[str, Pack], pack_id: str) -> str:
    """The first key under which a pack with this id was loaded (ignore broken copies)."""
    return next(key for key, pack in packs.items() if pack.id == pack_id)
