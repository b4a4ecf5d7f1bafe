"""Run every pack scenario under policies/tests/ (one parametrized test per scenario)."""

from __future__ import annotations

from pathlib import Path

import pytest

from failedcontact.loader import Pack, bundled_ids, load_pack
from failedcontact.scenarios import Scenario, discover, load_scenarios, run_scenario

ROOT = Path(__file__).resolve().parents[1] / "policies" / "tests"
SCENARIOS: list[Scenario] = [s for f in discover(ROOT) for s in load_scenarios(f)]
_PACKS: dict[str, Pack] = {}


def test_every_bundled_pack_has_scenarios() -> None:
    packs = {p.stem for p in (ROOT.parent).glob("*.yaml")}
    covered = {s.file.parent.name for s in SCENARIOS}
    assert packs <= covered


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    problems = run_scenario(scenario, _PACKS)
    assert not problems, f"{scenario.file}:{scenario.line} ({scenario.section})\n" + "\n".join(
        problems
    )


def test_every_rule_of_every_bundled_pack_is_exercised_by_its_scenarios() -> None:
    fired: dict[str, set[str]] = {}
    for scenario in SCENARIOS:
        if scenario.case is None or scenario.as_of is None or "error" in scenario.expect:
            continue
        pack = _PACKS.get(scenario.pack) or load_pack(scenario.pack)
        _PACKS[scenario.pack] = pack
        assessment = pack.assess(scenario.case, scenario.as_of)
        fired.setdefault(pack.id, set()).update(
            t.id for t in assessment.trace if t.step in ("rule", "pattern")
        )
    missing = {}
    for pack_id in bundled_ids():
        document = load_pack(pack_id).document
        expected = {r.id for r in document.rules} | {p.id for p in document.patterns}
        left = expected - fired.get(pack_id, set())
        if left:
            missing[pack_id] = sorted(left)
    assert not missing, f"rules or patterns no scenario exercises: {missing}"
