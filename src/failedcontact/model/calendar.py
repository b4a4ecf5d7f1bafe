"""Working days and deadlines: Monday to Friday less the bank holidays of a `holidays` calendar."""

from __future__ import annotations

import json
import os
import threading
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from importlib.metadata import version
from pathlib import Path

from ..errors import UsageError
from .case import UK

_END_OF_DAY = time(23, 59, 59)
_MAX_SCAN_YEARS = 3


def unknown_region(country: str, subdivision: str | None) -> tuple[str, list[str]] | None:
    """None when `holidays` knows the country and subdivision; else which one it does not
    (`country` or `subdivision`) and the names it does know there.

    A region whose bank holidays are in the cache is known without importing `holidays`.
    """
    if _read_cache(country, subdivision):
        return None
    import holidays

    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except (NotImplementedError, KeyError, ValueError):
        countries = holidays.list_supported_countries()
        if country not in countries:
            return "country", sorted(countries)
        return "subdivision", list(countries[country])
    return None


def _country_holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    """One year's bank holidays, through the package's public API."""
    import holidays

    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year))


# Start-up stays fast without reaching into `holidays`' internals: the bank holidays it
# computes are cached on disk, one JSON file per `holidays` version and region, so a warm
# process never imports the package (60-200 ms cold, since its lookup imports every
# country). FAILEDCONTACT_CACHE_DIR, else XDG_CACHE_HOME or ~/.cache, /failedcontact; a
# cache that cannot be written is skipped. Years are computed 50 at a time.
_BLOCK = 50
_CACHE_LOCK = threading.Lock()
_CACHED: dict[tuple[str, str | None], dict[int, frozenset[date]]] = {}


def _cache_file(country: str, subdivision: str | None) -> Path:
    root = os.environ.get("FAILEDCONTACT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "failedcontact"
    )
    return Path(root) / f"holidays-{version('holidays')}" / f"{country}-{subdivision or '-'}.json"


def _read_cache(country: str, subdivision: str | None) -> dict[int, frozenset[date]]:
    key = (country, subdivision)
    with _CACHE_LOCK:
        if key not in _CACHED:
            try:
                data = json.loads(_cache_file(country, subdivision).read_text(encoding="utf-8"))
                _CACHED[key] = {
                    int(y): frozenset(date.fromisoformat(d) for d in days)
                    for y, days in data.items()
                }
            except (OSError, ValueError, AttributeError):
                _CACHED[key] = {}
        return _CACHED[key]


def bank_holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The bank holidays of one year: from the cache, else computed (with the 49 years
    around it) by the `holidays` package and cached."""
    cached = _read_cache(country, subdivision)
    found = cached.get(year)
    if found is not None:
        return found
    import holidays

    first = year - year % _BLOCK
    computed = holidays.country_holidays(
        country, subdiv=subdivision, years=range(first, first + _BLOCK)
    )
    block = {y: frozenset(d for d in computed if d.year == y) for y in range(first, first + _BLOCK)}
    with _CACHE_LOCK:
        cached.update(block)
        _write_cache(_cache_file(country, subdivision), cached)
    return block[year]


def _write_cache(path: Path, years: dict[int, frozenset[date]]) -> None:
    data = {str(y): sorted(d.isoformat() for d in days) for y, days in sorted(years.items())}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, path)  # whole or absent, whoever else writes it meanwhile
    except OSError:
        pass


class WorkingCalendar:
    """A working-day calendar for one country and subdivision.

    Bank holidays are computed per year on first use and kept; the cache only grows and
    is guarded by a lock, so one calendar can be shared by many threads.
    """

    __slots__ = ("_by_year", "_lock", "country", "subdivision", "working_hours")

    # Ordinals: date(1, 1, 1) is 1, a Monday, so `ordinal % 7` is 0 on Sundays, 6 on Saturdays.

    def __init__(
        self,
        country: str,
        subdivision: str | None = None,
        working_hours: tuple[time, time] = (time(9), time(17)),
    ) -> None:
        unknown = unknown_region(country, subdivision)
        if unknown is not None and unknown[0] == "country":
            raise UsageError(f"`{country}` is not a country the holidays package knows")
        if unknown is not None:
            raise UsageError(
                f"`{subdivision}` is not a subdivision of `{country}`; expected one of "
                + ", ".join(f"`{s}`" for s in unknown[1])
            )
        self.country = country
        self.subdivision = subdivision
        self.working_hours = working_hours
        self._by_year: dict[int, tuple[frozenset[date], list[int]]] = {}
        self._lock = threading.Lock()

    def _year(self, year: int) -> tuple[frozenset[date], list[int]]:
        found = self._by_year.get(year)
        if found is None:
            with self._lock:
                found = self._by_year.get(year)
                if found is None:
                    days = bank_holiday_dates(self.country, self.subdivision, year)
                    first = date(year, 1, 1).toordinal()
                    last = date(year, 12, 31).toordinal()
                    working = [
                        o
                        for o in range(first, last + 1)
                        if o % 7 not in (0, 6) and date.fromordinal(o) not in days
                    ]
                    found = (days, working)
                    self._by_year[year] = found
        return found

    def bank_holidays(self, year: int) -> frozenset[date]:
        """Return the bank holidays of one year."""
        return self._year(year)[0]

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a bank holiday."""
        return day.weekday() < 5 and day not in self._year(day.year)[0]

    def add_working_days(self, day: date, count: int) -> date:
        """Return the `count`th working day after `day` (`day` itself never counts)."""
        if count < 0:
            raise UsageError("count must not be negative")
        if count == 0:
            return day
        ordinal = day.toordinal()
        year = day.year
        remaining = count
        for _ in range(_MAX_SCAN_YEARS):
            working = self._year(year)[1]
            start = bisect_right(working, ordinal)
            if start + remaining - 1 < len(working):
                return date.fromordinal(working[start + remaining - 1])
            remaining -= len(working) - start
            year += 1
        raise UsageError(f"no {count}th working day within {_MAX_SCAN_YEARS} years")

    def end_of_working_days(self, start: datetime, count: int) -> datetime:
        """The last instant (23:59:59 UK local) of the `count`th working day after `start`."""
        local_day = start.astimezone(UK).date()
        last = self.add_working_days(local_day, count)
        return datetime.combine(last, _END_OF_DAY, tzinfo=UK)

    def is_out_of_hours(self, at: datetime) -> bool:
        """Outside working hours on a working day, or any time on another day."""
        local = at.astimezone(UK)
        if not self.is_working_day(local.date()):
            return True
        start, end = self.working_hours
        return not (start <= local.time().replace(tzinfo=None) < end)


def add_hours(start: datetime, hours: float) -> datetime:
    """Elapsed time: `hours` real hours after `start`, correct across clock changes."""
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(UK)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months on (or back), clamped to the month's last day."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


def end_of_day(day: date) -> datetime:
    """The last instant of a UK local day: 23:59:59."""
    return datetime.combine(day, _END_OF_DAY, tzinfo=UK)


def end_of_calendar_days(start: datetime, days: int) -> datetime:
    """The last instant (23:59:59 UK local) of the `days`th calendar day after `start`'s day."""
    return end_of_day(start.astimezone(UK).date() + timedelta(days=days))


def end_of_months(start: datetime, months: int) -> datetime:
    """The last instant (23:59:59 UK local) of the same day `months` calendar months on."""
    return end_of_day(add_months(start.astimezone(UK).date(), months))


def months_before(stamp: float, months: int) -> float:
    """The instant `months` calendar months before `stamp`, at the same UK local wall time."""
    local = datetime.fromtimestamp(stamp, UK)
    day = add_months(local.date(), -months)
    return datetime.combine(day, local.time(), tzinfo=UK).timestamp()
