"""The policy lead's commands: `new-area` and `handbook`, run as a lead would run them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from failedcontact.cli import new_area
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


# --- everyday command-line conventions (issue 30, item 4) ---------------------------------------


def _commands() -> list[tuple[str, Any]]:
    import typer

    from failedcontact.cli import app

    group = typer.main.get_command(app)
    return [("", group), *group.commands.items()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("args", [["-h"], ["check", "-h"], ["new-area", "-h"]], ids=str)
def test_dash_h_is_help(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_help_names_values_as_people_write_them(cli: Cli) -> None:
    for name, _ in _commands():
        text = cli(*([name] if name else []), "--help").stdout
        for typer_style in ("<str>", "<bool>", "<path>", "<int>", "{case}", "{CASE}"):
            assert typer_style not in text, (name, typer_style)
    assert "--pack    -p      PACK" in cli("report", "--help").stdout


def test_every_option_and_argument_has_help() -> None:
    missing = [f"{name or 'failedcontact'} {param.name}" for name, command in _commands()
               for param in command.params if not getattr(param, "help", None)]  # fmt: skip
    assert missing == []


def test_shell_completion_is_on(cli: Cli) -> None:
    assert "--show-completion" in cli("--help").stdout


def test_piped_output_is_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    from failedcontact.cli._app import PIPED_WIDTH, console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert console().width == PIPED_WIDTH
    monkeypatch.setenv("COLUMNS", "200")
    assert console().width == 200


@pytest.mark.parametrize(
    ("args", "status", "wanted"),
    [
        pytest.param(["explain", "-p", "north_lincs", "--as-of", "tomorrow",
                      "examples/second_no_access.json"], 64,
                     "error: --as-of: `tomorrow` is not a date and time\n  help: write ISO "
                     "8601, such as `2026-11-30T09:00` (UK time) or `2026-11-30T09:00:00+00:00`",
                     id="as-of"),
        pytest.param(["explain", "-p", "north_lincs", "nothere.json"], 5,
                     "error: no case file `nothere.json`", id="missing-case-file"),
        pytest.param(["schema", "nope"], 64,
                     "error: unknown schema `nope`\n  help: expected one of `case`, "
                     "`assessment`, `pack`, `scenario`, `mapping`, `openapi`", id="schema-nope"),
        pytest.param(["schema", "pak"], 64, "help: did you mean `pack`?", id="schema-typo"),
    ],
)  # fmt: skip
def test_a_mistake_on_the_command_line_says_what_to_type(
    cli: Cli, args: list[str], status: int, wanted: str
) -> None:
    result = cli(*args)
    assert result.exit_code == status
    assert wanted in result.stderr
    assert "Value error" not in result.stderr and "isoformat" not in result.stderr


def test_quiet_leaves_out_the_notes(cli: Cli, tmp_path: Path) -> None:
    args = ["explain", "-p", "north_lincs", "--as-of", "2026-11-30T09:00",
            "examples/second_no_access.json"]  # fmt: skip
    assert "pack north_lincs" in cli(*args).stderr
    quiet = cli("--quiet", *args)
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout
    out = tmp_path / "h.md"
    assert cli("-q", "handbook", "north_lincs", "-o", str(out)).stderr == ""


def test_check_lists_problems_in_line_order_with_the_line_quoted(cli: Cli, tmp_path: Path) -> None:
    text = (ROOT / "policies" / "north_lincs.yaml").read_text(encoding="utf-8")
    pack = tmp_path / "west_shire.yaml"
    pack.write_text(text.replace("id: north_lincs\n", "id: west_shire\n", 1), encoding="utf-8")
    result = cli("check", str(pack))
    assert result.exit_code == 3
    lines = [int(line.split(":")[1]) for line in result.stderr.splitlines()
             if line.startswith(str(pack))]  # fmt: skip
    assert lines == sorted(lines)
    assert "  76 |     citation: north_lincs 6a\n     |               ^" in result.stderr
