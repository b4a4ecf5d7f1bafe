"""A failing scenario says what it expected in the scenario file's own words (issue 30)."""

from __future__ import annotations

from pathlib import Path

import pytest

from failedcontact.testing.scenarios import load_scenarios, run_scenario

SCENARIO = """\
pack: north_lincs
scenarios:
  - name: expects the wrong thing
    section: north_lincs 6a, first no access visit
    as_of: "2026-12-24T09:00:00+00:00"
    case:
      case_id: NL-D1
      child: {date_of_birth: "2012-01-01"}
      events:
        - {at: "2026-12-23T10:00:00", type: home_visit, outcome: no_response}
    expect:
      EXPECT
"""


@pytest.mark.parametrize(
    ("expect", "problem"),
    [
        pytest.param("actions: {offer_further_appointment: {status: done}}",
                     "action `offer_further_appointment`.status\n  - expected: done\n"
                     "  + actual:   outstanding", id="status"),
        pytest.param("risk_tier: high", "risk_tier\n  - expected: high\n  + actual:   low",
                     id="tier"),
        pytest.param('actions: {offer_further_appointment: {due: "2027-01-05T23:59:59+00:00"}}',
                     "action `offer_further_appointment`.due\n"
                     "  - expected: 2027-01-05T23:59:59+00:00\n"
                     "  + actual:   2027-01-04T23:59:59+00:00", id="due"),
    ],
)  # fmt: skip
def test_a_failing_scenario_prints_values_as_written(
    expect: str, problem: str, tmp_path: Path
) -> None:
    folder = tmp_path / "north_lincs"
    folder.mkdir()
    path = folder / "wrong.yaml"
    path.write_text(SCENARIO.replace("EXPECT", expect), encoding="utf-8")
    [scenario] = load_scenarios(path)
    problems = run_scenario(scenario)
    assert problems == [problem]
    assert "<ActionStatus" not in problems[0] and "<RiskTier" not in problems[0]
