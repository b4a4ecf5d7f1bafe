"""Run every scenario under policies/tests/ and docs/cookbook/tests/ (one test each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from failedcontact.loader import Pack, load_pack
from failedcontact.locate import bundled_ids
from failedcontact.scenarios import Scenario, discover, load_scenarios, run_scenario, run_suite

ROOT = Path(__file__).resolve().parents[1] / "policies" / "tests"
COOKBOOK = Path(__file__).resolve().parents[1] / "docs" / "cookbook"
RECIPES = (
    "visit_frequency",
    "deadline_from_action",
    "deadline_from_referral",
    "completed_by_visit",
    "calendar_windows",
    "closure_evidence_since",
    "episodes",
    "fact_at_as_of",
    "weeks_and_calendar_days",
)
SCENARIOS: list[Scenario] = [
    s for root in (ROOT, COOKBOOK / "tests") for f in discover(root) for s in load_scenarios(f)
]
_PACKS: dict[str, Pack] = {}


def test_every_bundled_pack_has_scenarios() -> None:
    packs = {p.stem for p in (ROOT.parent).glob("*.yaml")}
    covered = {s.file.parent.name for s in SCENARIOS}
    assert packs <= covered


@pytest.mark.parametrize("recipe", RECIPES)
def test_every_cookbook_recipe_has_a_pack_page_and_scenarios(recipe: str) -> None:
    assert (COOKBOOK / f"{recipe}.yaml").is_file()
    assert (COOKBOOK / f"{recipe}.md").is_file()
    assert any(s.file.parent.name == recipe for s in SCENARIOS)
    load_pack(COOKBOOK / f"{recipe}.yaml")  # compiles


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    problems = run_scenario(scenario, _PACKS)
    assert not problems, f"{scenario.file}:{scenario.line} ({scenario.section})\n" + "\n".join(
        problems
    )


def test_every_rule_of_every_bundled_pack_is_exercised_by_its_scenarios() -> None:
    suite = run_suite(discover(ROOT))
    assert set(suite.coverage) == set(bundled_ids())
    missing = {pack: missed for pack, (_, missed) in suite.coverage.items() if missed}
    assert not missing, f"rules, duties or patterns no scenario exercises: {missing}"
