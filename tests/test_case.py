"""The case model: defaults, time handling and errors that name the field path."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

import failedcontact as fc
from failedcontact.model.case import UK


def _event(**fields: Any) -> dict[str, Any]:
    return {"at": "2026-11-23T10:00:00", **fields}


def test_defaults_follow_the_contract() -> None:
    case = fc.parse_case({"case_id": "C-1"})
    assert case.service == "universal"
    assert case.child.plan == "none"
    assert case.child.date_of_birth is None
    assert case.household.tenure == "unknown"
    assert case.household.local_authority is None
    assert case.household.landlord is None
    assert case.flags == ()
    assert case.events == ()


def test_naive_times_are_uk_local() -> None:
    case = fc.parse_case(
        {
            "case_id": "C-1",
            "events": [
                _event(type="home_visit", outcome="no_response"),
                {"at": "2026-07-01T10:00:00", "type": "address_change"},
            ],
        }
    )
    assert case.events[0].at.utcoffset() == timedelta(0)
    assert case.events[1].at.utcoffset() == timedelta(hours=1)


def test_ambiguous_local_time_is_read_as_the_first_occurrence() -> None:
    case = fc.parse_case(
        {"case_id": "C", "events": [{"at": "2026-10-25T01:30:00", "type": "address_change"}]}
    )
    assert case.events[0].at.utcoffset() == timedelta(hours=1)


def test_offset_times_keep_their_instant() -> None:
    case = fc.parse_case(
        {"case_id": "C", "events": [{"at": "2026-11-23T10:00:00+05:00", "type": "address_change"}]}
    )
    assert case.events[0].at == datetime(2026, 11, 23, 5, 0, tzinfo=UK)


def test_case_is_frozen() -> None:
    case = fc.parse_case({"case_id": "C-1"})
    with pytest.raises(Exception, match="frozen"):
        case.case_id = "other"


def test_json_text_and_dict_give_the_same_case() -> None:
    data = {"case_id": "C-1", "events": [_event(type="call", outcome="no_answer")]}
    import json

    assert fc.parse_case(json.dumps(data)) == fc.parse_case(data)


BAD_CASES = [
    ({}, "case_id", "required field is missing"),
    ({"case_id": ""}, "case_id", "at least 1 character"),
    ({"case_id": 12}, "case_id", "valid string"),
    ({"case_id": "C", "service": "nhs"}, "service", "universal"),
    ({"case_id": "C", "child": {"plan": "cp"}}, "child.plan", "child_protection"),
    ({"case_id": "C", "child": {"disability": "yes"}}, "child.disability", "boolean"),
    ({"case_id": "C", "child": {"date_of_birth": "2026-02-30"}}, "child.date_of_birth", "day"),
    ({"case_id": "C", "household": {"tenure": "rented"}}, "household.tenure", "private_rented"),
    (
        {"case_id": "C", "household": {"local_authority": "North Lincs"}},
        "household.local_authority",
        "pattern",
    ),
    ({"case_id": "C", "surname": "x"}, "surname", "unknown field"),
    ({"case_id": "C", "events": [{"type": "call"}]}, "events[0].at", "missing"),
    ({"case_id": "C", "events": [_event(type="visit")]}, "events[0]", "unknown event type"),
    ({"case_id": "C", "events": [_event()]}, "events[0]", "no `type`"),
    (
        {"case_id": "C", "events": [_event(type="home_visit", outcome="gone")]},
        "events[0].outcome",
        "no_response",
    ),
    (
        {"case_id": "C", "events": [_event(type="appointment", outcome="dna")]},
        "events[0].outcome",
        "not_brought",
    ),
    (
        {"case_id": "C", "events": [_event(type="call", outcome="answered", who="x")]},
        "events[0].who",
        "unknown field",
    ),
    (
        {"case_id": "C", "events": [_event(type="message", channel="fax")]},
        "events[0].channel",
        "letter",
    ),
    (
        {"case_id": "C", "events": [_event(type="concern", level="high")]},
        "events[0].level",
        "significant_harm",
    ),
    (
        {"case_id": "C", "events": [{"at": "yesterday", "type": "address_change"}]},
        "events[0].at",
        "datetime",
    ),
    (
        {"case_id": "C", "events": [{"at": "2027-03-28T01:30:00", "type": "address_change"}]},
        "events[0].at",
        "does not exist",
    ),
    (
        {"case_id": "C", "events": [{"at": "9999-12-31T10:00:00", "type": "address_change"}]},
        "events[0].at",
        "outside the supported years",
    ),
    (
        {"case_id": "C", "events": [_event(type="worker_absence", until="2026-11-01")]},
        "events[0]",
        "before the absence starts",
    ),
]


@pytest.mark.parametrize(
    ("data", "path", "message"), BAD_CASES, ids=[f"{i}-{c[1]}" for i, c in enumerate(BAD_CASES)]
)
def test_bad_input_names_the_field(data: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(fc.CaseError) as caught:
        fc.parse_case(data)
    issues = {issue.path: issue.message for issue in caught.value.issues}
    assert path in issues, issues
    assert message in issues[path]


STRICT_JSON = [
    ('{"case_id": "C", "events": [{"at": 1700000000, "type": "address_change"}]}',
     "events[0].at", "valid datetime"),
    ('{"case_id": "C", "events": [{"at": 1700000000.5, "type": "address_change"}]}',
     "events[0].at", "valid datetime"),
    ('{"case_id": "C", "events": [{"at": "2026-11-01", "type": "address_change"}]}',
     "events[0].at", "valid datetime"),
    ('{"case_id": "C", "child": {"date_of_birth": "2020-01-01T00:00:00"}}',
     "child.date_of_birth", "YYYY-MM-DD"),
    ('{"case_id": "C", "events": [{"at": "2026-11-01T10:00:00", "type": "worker_absence", '
     '"until": 20261201}]}', "events[0].until", "valid date"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "path", "message"),
    STRICT_JSON,
    ids=["at-int", "at-float", "at-bare-date", "dob-datetime", "until-int"],
)
def test_json_text_is_read_strictly(text: str, path: str, message: str) -> None:
    """The contract's `at` is ISO 8601 text: a number is not read as seconds since 1970."""
    with pytest.raises(fc.CaseError) as caught:
        fc.parse_case(text)
    issues = {issue.path: issue.message for issue in caught.value.issues}
    assert message in issues[path], issues


def test_plain_data_may_carry_python_dates_and_times() -> None:
    case = fc.parse_case(
        {
            "case_id": "C",
            "child": {"date_of_birth": date(2020, 1, 1)},
            "events": [
                {"at": datetime(2026, 11, 1, 10), "type": "address_change"},
                {"at": "2026-11-02T10:00:00", "type": "address_change"},
            ],
        }
    )
    assert case.child.date_of_birth == date(2020, 1, 1)
    assert [e.at.isoformat() for e in case.events] == [
        "2026-11-01T10:00:00+00:00", "2026-11-02T10:00:00+00:00"]  # fmt: skip


def test_invalid_json_text_is_a_case_error() -> None:
    with pytest.raises(fc.CaseError, match=r"(?i)invalid json"):
        fc.parse_case('{"case_id": ')


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(fc.CaseError) as caught:
        fc.parse_case({"case_id": "C", "service": "x", "child": {"plan": "y"}})
    assert {i.path for i in caught.value.issues} == {"service", "child.plan"}


def _by_definition(wall: datetime) -> datetime | None:
    """UK local reading from the zone database directly (None: the time does not exist)."""
    first = wall.replace(tzinfo=UK)
    second = wall.replace(tzinfo=UK, fold=1)
    offsets = first.utcoffset(), second.utcoffset()
    assert offsets[0] is not None and offsets[1] is not None
    return None if offsets[0] < offsets[1] else first


@pytest.mark.parametrize("year", [1916, 1941, 1947, 1968, 1971, 1996, 2026, 2027, 2100, 2199])
def test_naive_times_match_the_zone_database_around_every_clock_change(year: int) -> None:
    """The cached skipped-hour table agrees with asking the zone database each time."""
    from failedcontact.model.case import as_uk_instant

    checked = 0
    day = datetime(year, 1, 1, 12)
    while day.year == year:
        tomorrow = day + timedelta(days=1)
        if day.replace(tzinfo=UK).utcoffset() != tomorrow.replace(tzinfo=UK).utcoffset():
            for minutes in range(0, 48 * 60, 10):
                wall = day + timedelta(minutes=minutes, seconds=minutes % 60)
                expected = _by_definition(wall)
                if expected is None:
                    with pytest.raises(ValueError, match="does not exist in UK local time"):
                        as_uk_instant(wall)
                else:
                    got = as_uk_instant(wall)
                    assert (got, got.utcoffset()) == (expected, expected.utcoffset()), wall
                checked += 1
        day = tomorrow
    assert checked > 0, f"no clock change found in {year}"
