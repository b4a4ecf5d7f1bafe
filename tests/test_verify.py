"""`failedcontact verify` is clean on the bundled packs and catches an inconsistent pack."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from failedcontact.testing.scenarios import load_scenarios, run_scenario

from .conftest import MINIMAL_PACK, Cli

# The third failed contact lowers the tier from medium to low: inconsistent on purpose.
LOWERING_RISK = """\
    - {tier: low, when: {failed_contacts: {at_least: 3}}, reason: third contact}
    - {tier: medium, when: {failed_contacts: {at_least: 1}}, reason: any failed contact}
"""
CONSISTENT_RISK = """\
    - {tier: medium, when: {failed_contacts: {at_least: 1}}, reason: any failed contact}
"""
CP_RULE = "    - {tier: high, when: {plan: child_protection}, reason: cp plan}\n"


@pytest.mark.slow
def test_verify_writes_a_regression_scenario_that_fails_until_the_pack_is_fixed(
    tmp_path: Path, cli: Cli
) -> None:
    assert CP_RULE in MINIMAL_PACK
    pack = tmp_path / "packs" / "demo.yaml"
    pack.parent.mkdir()
    pack.write_text(MINIMAL_PACK.replace(CP_RULE, LOWERING_RISK), encoding="utf-8")
    out = tmp_path / "found"
    only = ("--invariant", "failed-contact-monotone", "--invariant", "seen-resets")
    result = cli("verify", str(pack), "--examples", "200", "--seed", "1", "--out", str(out), *only)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "failed-contact-monotone: another failed contact lowers the risk tier" in result.stdout
    written = out / "demo-failed-contact-monotone.yaml"
    text = written.read_text(encoding="utf-8")
    # readable YAML, one event a line, the pack named relative to the scenario file
    document = YAML(typ="safe").load(text)
    assert document["pack"] == "../packs/demo.yaml"
    [body] = document["scenarios"]
    assert body["expect"] == {"holds": ["failed-contact-monotone"]}
    assert "\n        - {at: " in text and len(body["case"]["events"]) <= 3
    # it states the violated expectation: it fails on the broken pack...
    [scenario] = load_scenarios(written)
    assert run_scenario(scenario) != []
    rerun = cli("test", str(written))
    assert rerun.exit_code == 1 and "invariant `failed-contact-monotone` does not hold" in (
        rerun.stdout
    )
    # ...and passes once the pack is fixed
    pack.write_text(MINIMAL_PACK.replace(CP_RULE, CONSISTENT_RISK), encoding="utf-8")
    assert run_scenario(scenario) == []
    assert cli("test", str(written)).exit_code == 0


@pytest.mark.slow
def test_verify_is_clean_on_a_bundled_pack(tmp_path: Path, cli: Cli) -> None:
    result = cli("verify", "north_lincs", "--examples", "40", "--out", str(tmp_path))
    assert result.exit_code == 0, result.stdout
    assert "all 9 invariants hold" in result.stdout


def test_verify_rejects_an_unknown_invariant_as_a_usage_error(cli: Cli) -> None:
    result = cli("verify", "north_lincs", "--invariant", "monotone")
    assert result.exit_code == 64
    assert "unknown invariant(s) monotone" in result.stderr


@pytest.mark.parametrize("examples", ["0", "-1"])
def test_verify_rejects_fewer_than_one_example_as_a_usage_error(cli: Cli, examples: str) -> None:
    result = cli("verify", "north_lincs", "--examples", examples)
    assert result.exit_code == 64
    assert "Invalid value for '--examples'" in result.stderr


def test_every_verify_invariant_can_be_named_in_a_scenario() -> None:
    from failedcontact.testing.scenario_model import Invariant
    from failedcontact.testing.verify import INVARIANTS

    assert list(INVARIANTS) == [i.value for i in Invariant]


def test_the_search_reports_its_progress() -> None:
    import failedcontact as fc
    from failedcontact.testing.verify import find_violations

    seen: list[tuple[str, int]] = []
    found = find_violations(fc.load_pack("north_lincs"), examples=3, only=["deterministic"],
                            progress=lambda name, tried: seen.append((name, tried)))  # fmt: skip
    assert found == []
    assert seen and all(name == "deterministic" for name, _ in seen)
    assert [tried for _, tried in seen] == list(range(1, len(seen) + 1))
