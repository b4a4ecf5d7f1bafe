"""`failedcontact verify` is clean on the bundled packs and catches an inconsistent pack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

import failedcontact as fc
from failedcontact.scenarios import load_scenarios

ROOT = Path(__file__).resolve().parents[1]

# The third failed contact lowers the tier from medium to low: inconsistent on purpose.
LOWERING_RISK = """\
    - {tier: low, when: {failed_contacts: {at_least: 3}}, reason: third contact}
    - {tier: medium, when: {failed_contacts: {at_least: 1}}, reason: any failed contact}
"""


def _verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "failedcontact", "verify", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_verify_catches_a_pack_whose_third_failed_contact_lowers_the_tier(
    tmp_path: Path,
) -> None:
    text = (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
    pack_text = text.split('MINIMAL_PACK = """\\\n', 1)[1].split('"""', 1)[0]
    broken = pack_text.replace(
        "    - {tier: high, when: {plan: child_protection}, reason: cp plan}\n", LOWERING_RISK
    )
    pack = tmp_path / "demo.yaml"
    pack.write_text(broken, encoding="utf-8")
    out = tmp_path / "found"
    result = _verify(
        str(pack),
        "--examples",
        "200",
        "--seed",
        "1",
        "--out",
        str(out),
        "--invariant",
        "failed-contact-monotone",
        "--invariant",
        "seen-resets",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed-contact-monotone: another failed contact lowers the risk tier" in result.stdout
    written = out / "demo-failed-contact-monotone.yaml"
    assert written.exists()
    # The counterexample is a ready-to-run scenario, shrunk to a small case.
    [scenario] = load_scenarios(written)
    assert scenario.case is not None and len(scenario.case["events"]) <= 3
    assessment = fc.load_pack(str(pack)).assess(scenario.case, scenario.as_of)
    assert assessment.risk_tier.value == scenario.expect["risk_tier"]
    assert YAML(typ="safe").load(written.read_text(encoding="utf-8"))["pack"] == str(pack)
    rerun = subprocess.run(
        [sys.executable, "-m", "failedcontact", "test", str(written)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stdout


def test_verify_is_clean_on_a_bundled_pack(tmp_path: Path) -> None:
    result = _verify("north_lincs", "--examples", "40", "--out", str(tmp_path))
    assert result.returncode == 0, result.stdout
    assert "all 9 invariants hold" in result.stdout
