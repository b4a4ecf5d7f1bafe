"""Run every pack scenario under policies/tests/ (one parametrized test per scenario)."""

from __future__ import annotations

from pathlib import Path

import pytest

from failedcontact.loader import Pack
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
