"""The public API is small and pinned: a change to it is a deliberate, reviewed change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest

import failedcontact as fc
from failedcontact.testing.scenarios import load_scenarios

from .conftest import MINIMAL_PACK


def test_public_names_are_pinned() -> None:
    assert sorted(fc.__all__) == [
        "Assessment",
        "BackendUnavailable",
        "Case",
        "CaseError",
        "Diagnostic",
        "FailedContactError",
        "Pack",
        "PackError",
        "UnknownPackError",
        "UsageError",
        "WorkingCalendar",
        "bundled_ids",
        "check_file",
        "load_pack",
        "parse_case",
    ]


def test_version_is_the_installed_distributions() -> None:
    assert fc.__version__ == version("failedcontact")


def _scenario_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios: []\n", encoding="utf-8")
    load_scenarios(bad)


# Every way the library refuses input on purpose, each raised for real.
REFUSALS: list[tuple[str, Callable[[Path], object]]] = [
    ("invalid-case", lambda _: fc.parse_case({"case_id": "C", "colour": "red"})),
    ("unknown-pack", lambda _: fc.load_pack("no_such_pack")),
    ("broken-pack", lambda _: fc.load_pack(text="id: x\n")),
    ("name-and-text", lambda _: fc.load_pack("north_lincs", text=MINIMAL_PACK)),
    ("unknown-country", lambda _: fc.WorkingCalendar("XX")),
    ("unknown-subdivision", lambda _: fc.WorkingCalendar("GB", "XYZ")),
    ("scenario-file", _scenario_file_error),
    (
        "unknown-backend",
        lambda _: fc.load_pack("north_lincs").assess(
            {"case_id": "C"},
            datetime(2026, 1, 1, tzinfo=UTC),
            backend="bogus",  # type: ignore[arg-type]
        ),
    ),
]


@pytest.mark.parametrize("refusal", [r[1] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_every_library_error_is_a_failedcontact_error(
    refusal: Callable[[Path], object], tmp_path: Path
) -> None:
    with pytest.raises(fc.FailedContactError):
        refusal(tmp_path)


def test_each_refusal_raises_an_exported_error() -> None:
    with pytest.raises(fc.UnknownPackError) as unknown:
        fc.load_pack("no_such_pack")
    assert [d.code for d in unknown.value.diagnostics] == ["pack.unknown"]
    with pytest.raises(fc.UsageError):
        fc.load_pack("north_lincs", text=MINIMAL_PACK)
    with pytest.raises(fc.UsageError):
        fc.WorkingCalendar("XX")


def test_errors_with_diagnostics_share_one_constructor() -> None:
    from failedcontact.errors import DiagnosticError, MappingError, ScenarioFileError

    found = [fc.Diagnostic("x.code", "first", "f.yaml", 1, 2), fc.Diagnostic("y", "two", "", 0, 0)]
    for kind in (fc.PackError, fc.UnknownPackError, ScenarioFileError, MappingError):
        error = kind(found)
        assert isinstance(error, DiagnosticError) and isinstance(error, fc.FailedContactError)
        assert error.diagnostics == tuple(found)
        assert str(error) == "f.yaml:1:2: error[x.code]: first\nerror[y]: two"


def test_the_exported_backend_error_is_the_one_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from failedcontact.engine import durable

    monkeypatch.setattr(durable, "_engine", None)  # as if durable-rules were not installed
    with pytest.raises(fc.BackendUnavailable):
        fc.load_pack("north_lincs").assess(
            {"case_id": "D"}, datetime(2026, 11, 25, tzinfo=UTC), backend="durable"
        )


def test_load_pack_from_text_names_the_text_in_diagnostics() -> None:
    pack = fc.load_pack(text=MINIMAL_PACK)
    assert pack.id == "demo" and pack.source is None
    with pytest.raises(fc.PackError) as raised:
        fc.load_pack(text=MINIMAL_PACK.replace("on: [concern]", "on: [concerns]"), file="mine")
    [diagnostic] = raised.value.diagnostics
    assert (diagnostic.file, diagnostic.code) == ("mine", "pack.unknown-trigger")


def test_bundled_packs_include_north_lincs() -> None:
    assert "north_lincs" in fc.bundled_ids()
