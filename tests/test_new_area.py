"""`new-area`: a new area's pack copied from each bundled pack, or from answers, passes `check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from failedcontact.engine.loader import check_file
from failedcontact.errors import Severity, UsageError
from failedcontact.source.locate import bundled_ids
from failedcontact.source.new_area import (
    FIRST_VERSION,
    TODO_PHONE,
    TODO_SOURCE,
    Answers,
    check_new_id,
    from_answers,
    from_pack,
)
from failedcontact.testing.scenarios import discover, run_suite

POLICIES = Path(__file__).resolve().parents[1] / "policies"


@pytest.mark.parametrize("old", bundled_ids())
def test_a_copy_of_each_bundled_pack_passes_check(old: str, tmp_path: Path) -> None:
    tmp_path = tmp_path / "policies"
    area = from_pack(POLICIES / f"{old}.yaml", "west_shire")
    written = area.write(tmp_path)
    assert written[0] == tmp_path / "west_shire.yaml"
    problems = check_file(tmp_path / "west_shire.yaml")
    assert [p for p in problems if p.severity is Severity.ERROR] == []
    assert [p.code for p in problems] == []  # not even a warning
    text = area.pack
    assert "id: west_shire\n" in text
    assert f"version: {FIRST_VERSION}\n" in text
    assert TODO_SOURCE in text
    assert (TODO_PHONE in text) == ("\ncontacts:\n" in (POLICIES / f"{old}.yaml").read_text())
    assert f"{old}." not in text.replace(f"from {old} ", "")  # every prefix renamed
    assert f"citation: {old} " not in text


@pytest.mark.parametrize("old", bundled_ids())
def test_the_scenarios_are_copied_with_ids_renamed_and_load(old: str, tmp_path: Path) -> None:
    tmp_path = tmp_path / "policies"
    area = from_pack(POLICIES / f"{old}.yaml", "west_shire")
    area.write(tmp_path)
    folder, original = tmp_path / "tests" / "west_shire", POLICIES / "tests" / old
    copied = sorted(p.relative_to(folder) for p in folder.rglob("*.yaml"))
    assert copied == sorted(p.relative_to(original) for p in original.rglob("*.yaml"))
    for name, text in area.scenarios.items():
        assert "pack: west_shire" in text or name.startswith("broken/")
        assert f"section: {old} " not in text
    suite = run_suite(discover(tmp_path / "tests" / "west_shire"))
    assert suite.percent("west_shire") == 100.0
    # what still fails is only what the lead must fill in: the numbers to call
    for outcome in suite.failed:
        assert any("contacts" in problem for problem in outcome.problems), outcome.problems


def test_from_answers_passes_check_and_its_scenarios_pass(tmp_path: Path) -> None:
    tmp_path = tmp_path / "policies"
    answers = Answers("East Shire", "No access visits", (("1", "Introduction"), ("2", "Visits")))
    from_answers("east_shire", answers).write(tmp_path)
    problems = check_file(tmp_path / "east_shire.yaml")
    assert [(str(p.code), p.message) for p in problems] == [
        ("pack.uncovered-section",
         "section `2` (Visits) is encoded by no rule and has no `not_actionable` reason"),
    ]  # fmt: skip
    suite = run_suite(discover(tmp_path / "tests" / "east_shire"))
    assert not suite.failed and suite.percent("east_shire") == 100.0


@pytest.mark.parametrize(
    ("new_id", "message"),
    [
        pytest.param("West Shire", "`West Shire` is not a pack id", id="spaces"),
        pytest.param("north_lincs", "is the id of the pack it copies", id="same"),
    ],
)
def test_a_bad_id_is_refused_with_a_suggestion(new_id: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        check_new_id(new_id, "north_lincs")
    if new_id == "West Shire":
        assert "try `west_shire`" in str(caught.value)


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    tmp_path = tmp_path / "policies"
    tmp_path.mkdir()
    (tmp_path / "west_shire.yaml").write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="already exists"):
        from_pack(POLICIES / "north_lincs.yaml", "west_shire").write(tmp_path)
    assert (tmp_path / "west_shire.yaml").read_text(encoding="utf-8") == "keep me"
