"""Working days from the holidays package, deadlines and clock changes (England and Wales)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from failedcontact import WorkingCalendar
from failedcontact.model.calendar import add_hours
from failedcontact.model.case import UK


@pytest.fixture(scope="module")
def england() -> WorkingCalendar:
    return WorkingCalendar("GB", "ENG")


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 11, 23), 5, date(2026, 11, 30)),  # plain week
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday to Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday: Monday is the first
        (date(2026, 12, 23), 1, date(2026, 12, 24)),
        (date(2026, 12, 24), 1, date(2026, 12, 29)),  # 25 Dec, 28 Dec (Boxing Day substitute)
        (date(2026, 12, 23), 5, date(2027, 1, 4)),  # and 1 Jan 2027
        (date(2027, 3, 25), 1, date(2027, 3, 30)),  # Good Friday 26 Mar, Easter Monday 29 Mar
        (date(2027, 3, 25), 5, date(2027, 4, 5)),
        (date(2026, 8, 28), 1, date(2026, 9, 1)),  # August bank holiday 31 Aug 2026
        (date(2026, 11, 23), 0, date(2026, 11, 23)),
    ],
    ids=[
        "week",
        "friday",
        "saturday",
        "christmas-eve",
        "christmas",
        "new-year",
        "good-friday",
        "easter-week",
        "august",
        "zero",
    ],
)
def test_add_working_days(
    england: WorkingCalendar, start: date, count: int, expected: date
) -> None:
    assert england.add_working_days(start, count) == expected


def test_plain_gb_misses_easter_monday_but_england_has_it(england: WorkingCalendar) -> None:
    assert not england.is_working_day(date(2027, 3, 29))
    assert not england.is_working_day(date(2026, 8, 31))
    assert england.is_working_day(date(2027, 3, 30))


def test_end_of_working_days_is_uk_local_end_of_day(england: WorkingCalendar) -> None:
    due = england.end_of_working_days(datetime(2027, 3, 25, 10, tzinfo=UK), 5)
    assert due.isoformat() == "2027-04-05T23:59:59+01:00"  # after the clocks went forward
    due = england.end_of_working_days(datetime(2026, 10, 22, 10, tzinfo=UK), 5)
    assert due.isoformat() == "2026-10-29T23:59:59+00:00"  # after the clocks went back


def test_day_is_the_uk_local_day(england: WorkingCalendar) -> None:
    # 23:30 UTC on Monday 8 June 2026 is 00:30 BST on Tuesday 9 June.
    due = england.end_of_working_days(datetime(2026, 6, 8, 23, 30, tzinfo=UTC), 1)
    assert due.date() == date(2026, 6, 10)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Clocks go back at 02:00 BST on Sunday 25 October 2026: 24 real hours later the
        # wall clock shows one hour earlier.
        ("2026-10-24T12:00:00+01:00", 24, "2026-10-25T11:00:00+00:00"),
        # Clocks go forward at 01:00 GMT on Sunday 28 March 2027.
        ("2027-03-27T12:00:00+00:00", 24, "2027-03-28T13:00:00+01:00"),
        ("2026-11-23T10:00:00+00:00", 24, "2026-11-24T10:00:00+00:00"),
    ],
    ids=["autumn", "spring", "winter"],
)
def test_hours_are_elapsed_time(start: str, hours: int, expected: str) -> None:
    assert add_hours(datetime.fromisoformat(start), hours).isoformat() == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-11-23T08:59:59", True),
        ("2026-11-23T09:00:00", False),
        ("2026-11-23T16:59:59", False),
        ("2026-11-23T17:00:00", True),
        ("2026-11-28T12:00:00", True),  # Saturday
        ("2026-12-25T12:00:00", True),  # Christmas Day
    ],
)
def test_out_of_hours(england: WorkingCalendar, at: str, expected: bool) -> None:
    assert england.is_out_of_hours(datetime.fromisoformat(at).replace(tzinfo=UK)) is expected


def test_working_hours_are_configurable() -> None:
    calendar = WorkingCalendar("GB", "ENG", (time(8), time(18)))
    assert not calendar.is_out_of_hours(datetime(2026, 11, 23, 8, 30, tzinfo=UK))


@pytest.mark.parametrize(
    ("country", "subdivision", "message"),
    [("XX", None, "`XX`"), ("GB", "XYZ", "`XYZ`")],
)
def test_unknown_calendar(country: str, subdivision: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(country, subdivision)


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
    count=st.integers(min_value=0, max_value=400),
)
@settings(max_examples=300, deadline=None)
def test_add_working_days_matches_counting_day_by_day(start: date, count: int) -> None:
    calendar = _ENGLAND
    day, remaining = start, count
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in calendar.bank_holidays(day.year):
            remaining -= 1
    assert calendar.add_working_days(start, count) == day


_ENGLAND = WorkingCalendar("GB", "ENG")


@pytest.mark.parametrize(
    ("country", "subdivision"),
    [("GB", "ENG"), ("GB", "WLS"), ("GB", "SCT"), ("GB", None), ("FR", None), ("US", "CA")],
)
def test_the_cached_bank_holidays_are_the_packages_own(
    country: str, subdivision: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cached or computed, the dates are what `holidays.country_holidays` gives."""
    import holidays

    from failedcontact.model import calendar as module

    monkeypatch.setenv("FAILEDCONTACT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(module, "_CACHED", {})
    for round_ in ("computed", "from disk"):
        for year in (1950, 2020, 2026, 2027, 2100):
            ours = module.bank_holiday_dates(country, subdivision, year)
            theirs = holidays.country_holidays(country, subdiv=subdivision, years=year)
            assert ours == frozenset(theirs), (country, subdivision, year, round_)
        module._CACHED.clear()


def test_a_warm_pack_load_does_not_import_holidays(tmp_path: Path) -> None:
    """The package's own lookup imports every country (60-200 ms): a warm start skips it,
    through the cache and the public API only, never the package's internals."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, failedcontact as fc\n"
        "pack = fc.load_pack('north_lincs')\n"
        "print(sorted(pack.compiled.calendar.bank_holidays(2026))[0])\n"
        "print('holidays' in sys.modules)\n"
    )
    env = {**os.environ, "FAILEDCONTACT_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs == [["2026-01-01", "True"], ["2026-01-01", "False"]]
    source = (Path(__file__).parents[1] / "src/failedcontact/model/calendar.py").read_text()
    assert "holidays.registry" not in source and "spec_from_file_location" not in source
