"""A policy lead's edit in a clone is what every tool uses: a pack id means the working
tree's `policies/<id>.yaml` when there is one (issue: the policy lead's loop)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from failedcontact.cli import app

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-25T09:00:00+00:00"
EXAMPLE = ROOT / "examples" / "second_no_access.json"
FIVE = "deadline: {working_days: 5}"


@pytest.fixture()
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's packs and scenarios with north_lincs' 5 days made 10."""
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    pack = tmp_path / "policies" / "north_lincs.yaml"
    text = pack.read_text(encoding="utf-8")
    assert text.count(FIVE) == 1
    pack.write_text(text.replace(FIVE, "deadline: {working_days: 10}"), encoding="utf-8")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")  # a folder inside the clone
    return tmp_path


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _due(result: Result) -> str:
    document = json.loads(result.stdout)
    return str(
        next(a["due"] for a in document["actions"] if a["id"] == "offer_further_appointment")
    )


def test_assess_uses_the_edited_pack_and_says_so(clone: Path) -> None:
    result = _run("assess", "--pack", "north_lincs", "--as-of", AS_OF, str(EXAMPLE))
    assert result.exit_code == 0, result.stderr
    # Mon 23 Nov + 10 working days is Mon 7 Dec (5 would be Mon 30 Nov)
    assert _due(result) == "2026-12-07T23:59:59+00:00"
    assert "policies/north_lincs.yaml (the working tree's copy)" in result.stderr


def test_outside_a_working_tree_the_bundled_pack_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run("assess", "--pack", "north_lincs", "--as-of", AS_OF, str(EXAMPLE))
    assert _due(result) == "2026-11-30T23:59:59+00:00"
    assert "(the bundled copy)" in result.stderr


def test_scenarios_check_the_edited_pack(clone: Path) -> None:
    result = _run("test", str(clone / "policies" / "tests" / "north_lincs" / "deadlines.yaml"))
    assert result.exit_code == 1
    assert "pack north_lincs: " in result.stdout and "working tree's copy" in result.stdout
    assert "offer_further_appointment`.due" in result.stdout


def test_test_without_arguments_runs_the_working_trees_scenarios(clone: Path) -> None:
    result = _run("test")
    assert result.exit_code == 1  # the edited timescale breaks the deadline scenarios
    assert "FAIL " in result.stdout and str(clone / "policies" / "tests") in result.stdout


def test_a_new_area_is_found_by_its_id(clone: Path) -> None:
    text = (clone / "policies" / "north_lincs.yaml").read_text(encoding="utf-8")
    (clone / "policies" / "knowsley.yaml").write_text(
        text.replace("north_lincs", "knowsley"),
        encoding="utf-8",
    )
    result = _run("check", "knowsley")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "policies/knowsley.yaml (the working tree's copy)" in result.stderr
    assessed = _run("assess", "--pack", "knowsley", "--as-of", AS_OF, str(EXAMPLE))
    assert json.loads(assessed.stdout)["pack"]["id"] == "knowsley"


def test_check_and_diff_see_the_edit(clone: Path) -> None:
    bundled = ROOT / "policies" / "north_lincs.yaml"
    result = _run("diff", "--format", "json", str(bundled), "north_lincs")
    assert result.exit_code == 1
    [difference] = json.loads(result.stdout)["differences"]
    assert "5 working days" in difference["left"] and "10 working days" in difference["right"]


def test_an_unknown_id_is_not_printed_as_a_file_position(clone: Path) -> None:
    result = _run("assess", "--pack", "knowsly", "--as-of", AS_OF, str(EXAMPLE))
    assert result.exit_code == 3
    assert "error[pack.unknown]: unknown pack `knowsly`" in result.stderr
    assert ":1:1:" not in result.stderr and "knowsly:" not in result.stderr


def test_verify_checks_the_edited_pack(clone: Path) -> None:
    out = clone / "found"
    result = _run("verify", "north_lincs", "--examples", "2", "--invariant", "deterministic",
                  "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stdout
    assert "policies/north_lincs.yaml (the working tree's copy)" in result.stderr


def test_report_shows_the_edited_deadline(clone: Path) -> None:
    out = clone / "report.html"
    result = _run("report", "--pack", "north_lincs", "--as-of", AS_OF, str(EXAMPLE), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "Mon 7 Dec 2026 23:59" in page and "10 working days" in page
