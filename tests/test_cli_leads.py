"""The policy lead's commands: `new-area` and `handbook`, run as a lead would run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from failedcontact.cli import handbook, new_area  # noqa: F401  (registers the commands)
from failedcontact.engine.loader import check_file

from .conftest import Cli

ROOT = Path(__file__).resolve().parents[1]


def test_new_area_from_a_pack_writes_a_pack_that_passes_check(cli: Cli, tmp_path: Path) -> None:
    result = cli("new-area", "west_shire", "--from", "north_lincs", "--policies", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert check_file(tmp_path / "west_shire.yaml") == []
    assert (tmp_path / "tests" / "west_shire" / "deadlines.yaml").is_file()
    assert "next: fill in each TODO" in result.stderr


def test_new_area_from_nothing_asks_on_a_terminal(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(new_area, "on_terminal", lambda: True)
    answers = "East Shire\nNo access visits\n1 Introduction\n\n"
    result = cli("new-area", "east_shire", "--policies", str(tmp_path), input=answers)
    assert result.exit_code == 0, result.stderr
    assert check_file(tmp_path / "east_shire.yaml") == []


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        pytest.param(["new-area", "West Shire", "--from", "north_lincs"], 64,
                     "error: `West Shire` is not a pack id", id="bad-id"),
        pytest.param(["new-area", "west_shire"], 64,
                     "error: give `--from PACK` to copy a pack, or run `new-area` on a terminal",
                     id="no-terminal"),
        pytest.param(["new-area", "west_shire", "--from", "nowhere"], 3,
                     "unknown pack `nowhere`", id="unknown-pack"),
    ],
)  # fmt: skip
def test_new_area_mistakes(cli: Cli, tmp_path: Path, args: list[str], status: int,
                           message: str) -> None:  # fmt: skip
    result = cli(*args, "--policies", str(tmp_path))
    assert result.exit_code == status
    assert message in result.stderr


@pytest.mark.parametrize("name", ["handbook.html", "handbook.md"])
def test_handbook_writes_html_or_markdown(cli: Cli, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    result = cli("handbook", "north_lincs", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert ("<!DOCTYPE html>" in text) == name.endswith(".html")
    assert "Proved by" in text and "0 not covered by any rule" in result.stderr
