"""Run every scenario under policies/tests/ and docs/cookbook/tests/ (one test each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from failedcontact.engine.loader import Pack, load_pack
from failedcontact.source.locate import bundled_ids
from failedcontact.testing.scenarios import (
    Scenario,
    discover,
    load_scenarios,
    run_scenario,
    run_suite,
)

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


BAD_SCENARIOS = [
    ("asserts-nothing", "expect: {}", "scenario.asserts-nothing", "expect something"),
    ("string-not-list", "expect: {no_actions: offer_further_appointment}", "scenario.schema",
     "must be a list, not one word"),
    ("unknown-key", "expect: {risk_tier: high, actoins: {}}", "scenario.unknown-field",
     "did you mean `actions`?"),
    ("unknown-tier", "expect: {risk_tier: hihg}", "scenario.schema", "(got `hihg`)"),
    ("error-and-tier", "expect: {risk_tier: high, error: {path: x}}", "scenario.schema",
     "cannot be combined"),
    ("unknown-invariant", "expect: {holds: [monotone]}", "scenario.schema", "(got `monotone`)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("expect", "code", "text"), [b[1:] for b in BAD_SCENARIOS], ids=[b[0] for b in BAD_SCENARIOS]
)
def test_a_lax_scenario_is_a_located_error(
    expect: str, code: str, text: str, tmp_path: Path
) -> None:
    from failedcontact.errors import ScenarioFileError

    path = tmp_path / "north_lincs" / "bad.yaml"
    path.parent.mkdir()
    path.write_text(
        "scenarios:\n  - name: bad\n    section: north_lincs 6a\n"
        '    as_of: "2026-11-24T09:00:00+00:00"\n    case: {case_id: A}\n'
        f"    {expect}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioFileError) as raised:
        load_scenarios(path)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == code and diagnostic.line == 6, diagnostic.render()
    assert text in diagnostic.message + (diagnostic.help or ""), diagnostic.render()
