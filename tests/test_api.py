"""The public API is small and pinned: a change to it is a deliberate, reviewed change."""

import failedcontact as fc


def test_public_names_are_pinned() -> None:
    assert sorted(fc.__all__) == [
        "Assessment",
        "Case",
        "CaseError",
        "Diagnostic",
        "FailedContactError",
        "Pack",
        "PackError",
        "WorkingCalendar",
        "bundled_ids",
        "check_file",
        "load_pack",
        "parse_case",
    ]


def test_every_public_name_exists() -> None:
    for name in fc.__all__:
        assert getattr(fc, name) is not None


def test_errors_share_one_base() -> None:
    assert issubclass(fc.CaseError, fc.FailedContactError)
    assert issubclass(fc.PackError, fc.FailedContactError)


def test_bundled_packs_include_north_lincs() -> None:
    assert "north_lincs" in fc.bundled_ids()
