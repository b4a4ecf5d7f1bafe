"""The engine: determinism, ordering, statuses, thread safety and compile-once evaluation."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from datetime import tzinfo as tzinfo_base
from typing import Any

import pytest

import failedcontact as fc
from failedcontact.model.assessment import RequiredAction
from failedcontact.pack.document import PackDocument

from .conftest import MINIMAL_PACK
from .random_cases import random_case

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)


def _case(*events: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "case_id": "T-1",
        "child": {"date_of_birth": "2012-01-01"},
        "events": list(events),
        **fields,
    }


def _visit(at: str, outcome: str = "no_response") -> dict[str, Any]:
    return {"at": at, "type": "home_visit", "outcome": outcome}


def test_same_input_same_output_byte_for_byte(north_lincs: fc.Pack) -> None:
    rng = random.Random(7)
    reloaded = fc.load_pack("north_lincs")
    for _ in range(50):
        case = random_case(rng)
        first = north_lincs.assess(case, AS_OF).model_dump_json()
        second = reloaded.assess(case, AS_OF).model_dump_json()
        assert first == second


def test_order_of_arrival_does_not_matter(north_lincs: fc.Pack) -> None:
    rng = random.Random(11)
    for _ in range(50):
        case = random_case(rng)
        # identical instants keep their input order, so only shuffle distinct times
        times = [e["at"] for e in case["events"]]
        if len(set(times)) != len(times):
            continue
        original = north_lincs.assess(case, AS_OF).model_dump(mode="json")
        order = list(range(len(case["events"])))
        rng.shuffle(order)
        shuffled = {**case, "events": [case["events"][i] for i in order]}
        result = north_lincs.assess(shuffled, AS_OF).model_dump(mode="json")
        for key in ("risk_tier", "failed_contacts", "last_seen", "closure"):
            assert result[key] == original[key]
        remap = {new: old for new, old in enumerate(order)}
        moved = [
            (a["id"], a["due"], a["status"], remap[a["trigger"]["event"]])
            for a in result["actions"]
        ]
        kept = [
            (a["id"], a["due"], a["status"], a["trigger"]["event"]) for a in original["actions"]
        ]
        assert sorted(moved) == sorted(kept)


def test_same_instant_events_keep_input_order(north_lincs: fc.Pack) -> None:
    # both at 10:00: the action is recorded after the visit that triggered it
    case = _case(
        _visit("2026-11-23T10:00:00"),
        {"at": "2026-11-23T10:00:00", "type": "action", "action": "telephone_family"},
    )
    actions = {a.id: a for a in north_lincs.assess(case, AS_OF).actions}
    assert actions["telephone_family"].status == "done"
    reversed_case = {**case, "events": case["events"][::-1]}
    actions = {a.id: a for a in north_lincs.assess(reversed_case, AS_OF).actions}
    assert actions["telephone_family"].status == "outstanding"


def test_status_moves_from_outstanding_to_overdue_exactly_after_due(north_lincs: fc.Pack) -> None:
    case = _case(_visit("2026-11-23T10:00:00"))
    due = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)

    def status(at: datetime) -> str:
        return {a.id: a for a in north_lincs.assess(case, at).actions}[
            "offer_further_appointment"
        ].status.value

    assert status(due) == "outstanding"
    assert status(due + timedelta(microseconds=1)) == "overdue"


def test_naive_as_of_is_uk_local(north_lincs: fc.Pack) -> None:
    case = _case(_visit("2026-11-23T10:00:00"))
    aware = north_lincs.assess(case, datetime(2026, 7, 1, 10, tzinfo=UTC))
    naive = north_lincs.assess(case, datetime(2026, 7, 1, 11))
    assert aware.as_of == naive.as_of


def test_assessment_validates_against_its_own_schema_and_round_trips(north_lincs: fc.Pack) -> None:
    rng = random.Random(3)
    for _ in range(30):
        assessment = north_lincs.assess(random_case(rng), AS_OF)
        text = assessment.model_dump_json()
        again = fc.Assessment.model_validate_json(text)
        assert again.model_dump_json() == text


def test_contract_fields_are_all_present(north_lincs: fc.Pack) -> None:
    case = _case(
        _visit("2026-11-23T10:00:00"),
        {"at": "2026-11-23T11:00:00", "type": "concern", "level": "significant_harm"},
    )
    document = json.loads(north_lincs.assess(case, AS_OF).model_dump_json())
    assert set(document) == {
        "contract",
        "case_id",
        "as_of",
        "pack",
        "engine",
        "risk_tier",
        "risk_reasons",
        "failed_contacts",
        "last_seen",
        "actions",
        "patterns",
        "closure",
        "episode",
        "next_change",
        "trace",
    }
    assert document["contract"] == "1.2"
    assert document["episode"] == {"started": "2026-11-23T10:00:00+00:00", "event": 0}
    assert set(document["pack"]) == {"id", "version", "digest"}
    assert document["pack"]["digest"].startswith("sha256:")
    from importlib.metadata import version

    assert document["engine"] == {"library": fc.__version__, "holidays": version("holidays")}
    assert document["as_of"] == "2026-11-25T09:00:00+00:00"
    action = document["actions"][0]
    assert set(action) == {
        "id",
        "title",
        "citation",
        "owner",
        "category",
        "recurring",
        "due",
        "status",
        "trigger",
        "contacts",
    }
    assert action["recurring"] is False
    assert set(action["trigger"]) == {"event", "at"}
    assert all(entry["why"] for entry in document["trace"])


def test_trace_explains_each_action(north_lincs: fc.Pack) -> None:
    case = _case(_visit("2026-11-16T10:00:00"), _visit("2026-11-23T10:00:00"))
    assessment = north_lincs.assess(case, AS_OF)
    rules = [t for t in assessment.trace if t.step == "rule"]
    assert [t.id for t in rules] == ["universal_first_no_access", "universal_second_no_access"]
    assert "failed contact 2" in rules[1].why
    for action in assessment.actions:
        assert any(action.id in t.actions and t.event == action.trigger.event for t in rules)


def test_concurrent_assessments_agree_with_sequential(north_lincs: fc.Pack) -> None:
    rng = random.Random(5)
    cases = [random_case(rng) for _ in range(200)]
    expected = [north_lincs.assess(c, AS_OF).model_dump_json() for c in cases]
    with ThreadPoolExecutor(max_workers=16) as pool:
        got = list(pool.map(lambda c: north_lincs.assess(c, AS_OF).model_dump_json(), cases))
    assert got == expected


@pytest.mark.parametrize("pack_id", ["suffolk", "pan_beds"])
def test_threads_on_a_cold_pack_agree_with_one_thread(pack_id: str) -> None:
    """Threads meet each year's bank holidays for the first time together (cases spread
    over 1996-2146), switching as often as the interpreter allows."""
    rng = random.Random(11)
    jobs = []
    for number in range(240):
        case = random_case(rng, number)
        shift = timedelta(days=365 * rng.randint(-30, 120) + rng.randint(0, 364))
        for event in case["events"]:
            event["at"] = (datetime.fromisoformat(event["at"]) + shift).isoformat()
        jobs.append((json.dumps(case), AS_OF + shift))
    alone = fc.load_pack(pack_id)
    expected = [alone.assess_json(text, as_of) for text, as_of in jobs]
    shared = fc.load_pack(pack_id)  # its own calendar, every year still to be worked out
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            got = list(pool.map(lambda job: shared.assess_json(*job), jobs))
    finally:
        sys.setswitchinterval(interval)
    assert got == expected


def test_assessing_never_revalidates_the_pack(
    north_lincs: fc.Pack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pack was validated again")

    monkeypatch.setattr(PackDocument, "model_validate", refuse)
    monkeypatch.setattr("failedcontact.pack.pipeline.read_yaml", refuse)
    north_lincs.assess(_case(_visit("2026-11-23T10:00:00")), AS_OF)
    # the patches are live: loading the pack again would have to read and validate it
    with pytest.raises(AssertionError, match="validated again"):
        fc.load_pack("north_lincs")


def _due(action: RequiredAction) -> str | None:
    return action.due.isoformat() if action.due is not None else None


def test_calendar_is_passed_in(write_pack: Callable[[str], str]) -> None:
    pack = fc.load_pack(write_pack(MINIMAL_PACK))
    case = _case(_visit("2026-11-23T10:00:00"))
    default = {a.id: a for a in pack.assess(case, AS_OF).actions}
    scotland = fc.WorkingCalendar("GB", "SCT")
    # 30 November (St Andrew's Day) is a bank holiday in Scotland only
    other = {a.id: a for a in pack.assess(case, AS_OF, calendar=scotland).actions}
    assert _due(default["offer_further_appointment"]) == "2026-11-30T23:59:59+00:00"
    assert _due(other["offer_further_appointment"]) == "2026-12-01T23:59:59+00:00"


def test_hour_deadline_and_contacts_by_local_authority(write_pack: Callable[[str], str]) -> None:
    pack = fc.load_pack(write_pack(MINIMAL_PACK))
    case = _case(
        _visit("2026-10-24T12:00:00"),
        {"at": "2026-10-24T12:30:00", "type": "concern", "level": "significant_harm"},
        household={"local_authority": "luton"},
    )
    actions = {a.id: a for a in pack.assess(case, AS_OF).actions}
    assert _due(actions["demo.call_back"]) == "2026-10-25T11:00:00+00:00"
    assert _due(actions["report_significant_harm"]) == "2026-10-24T12:30:00+01:00"
    assert [c.phone for c in actions["report_significant_harm"].contacts] == ["0100 111111"]
    elsewhere = {**case, "household": {"local_authority": "bedford"}}
    actions = {a.id: a for a in pack.assess(elsewhere, AS_OF).actions}
    assert [c.phone for c in actions["report_significant_harm"].contacts] == ["0100 000000"]


def test_pack_flags_are_checked(write_pack: Callable[[str], str]) -> None:
    pack = fc.load_pack(write_pack(MINIMAL_PACK))
    pack.assess(_case(flags=["demo_flag"]), AS_OF)
    with pytest.raises(fc.CaseError, match="demo_flag") as caught:
        pack.assess(_case(flags=["demo_flg"]), AS_OF)
    assert caught.value.issues[0].path == "flags[0]"


def test_pack_own_action_ids_are_accepted_in_action_events(
    write_pack: Callable[[str], str],
) -> None:
    pack = fc.load_pack(write_pack(MINIMAL_PACK))
    case = _case(
        _visit("2026-11-23T10:00:00"),
        {"at": "2026-11-23T12:00:00", "type": "action", "action": "demo.call_back"},
        # a shared id the pack does not use is still a known id
        {"at": "2026-11-23T12:00:00", "type": "action", "action": "call_police"},
    )
    actions = {a.id: a for a in pack.assess(case, AS_OF).actions}
    assert actions["demo.call_back"].status == "done"


def test_no_events_gives_an_empty_low_assessment(north_lincs: fc.Pack) -> None:
    assessment = north_lincs.assess({"case_id": "E"}, AS_OF)
    assert assessment.failed_contacts == 0
    assert assessment.actions == []
    assert assessment.last_seen is None
    assert assessment.risk_tier == "low"
    assert assessment.closure is None


def test_json_path_matches_the_typed_path_byte_for_byte(north_lincs: fc.Pack) -> None:
    rng = random.Random(13)
    for _ in range(100):
        case = random_case(rng)
        typed = north_lincs.assess(case, AS_OF).model_dump_json()
        fast = north_lincs.assess_json(json.dumps(case), AS_OF).decode("utf-8")
        assert fast == typed


def test_trusted_models_equal_validated_ones(north_lincs: fc.Pack) -> None:
    rng = random.Random(17)
    for _ in range(30):
        assessment = north_lincs.assess(random_case(rng), AS_OF)
        validated = fc.Assessment.model_validate(assessment.model_dump())
        assert validated == assessment
        assert validated.model_fields_set == assessment.model_fields_set


def test_as_of_is_echoed_as_given_and_naive_as_uk_local(north_lincs: fc.Pack) -> None:
    case = _case(_visit("2026-11-23T10:00:00"))
    given_utc = north_lincs.assess(case, datetime(2026, 7, 1, 10, tzinfo=UTC))
    assert json.loads(given_utc.model_dump_json())["as_of"] == "2026-07-01T10:00:00+00:00"
    naive = north_lincs.assess(case, datetime(2026, 7, 1, 11))
    assert json.loads(naive.model_dump_json())["as_of"] == "2026-07-01T11:00:00+01:00"


@pytest.mark.parametrize(("pack_id", "noted"), [("north_lincs", False), ("pan_beds", False),
                                                ("derbyshire", True)])  # fmt: skip
def test_scope_note_only_where_the_guidance_does_not_name_pregnant_women(
    pack_id: str, noted: bool
) -> None:
    # north_lincs 5c and pan_beds' introduction name pregnant women; Derbyshire does not.
    case = _case(_visit("2026-11-23T10:00:00"), child={"unborn": True})
    trace = fc.load_pack(pack_id).assess(case, AS_OF).trace
    assert any(t.id == "scope" for t in trace) is noted


class _NoOffset(tzinfo_base):
    """A tzinfo that gives no offset: Python treats such a time as naive."""

    def tzname(self, dt: datetime | None) -> None:
        return None

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None


def test_as_of_whose_tzinfo_gives_no_offset_is_uk_local_time(north_lincs: fc.Pack) -> None:
    case = _case(_visit("2026-11-23T10:00:00"))
    odd = north_lincs.assess(case, datetime(2026, 11, 25, 9, tzinfo=_NoOffset()))
    naive = north_lincs.assess(case, datetime(2026, 11, 25, 9))
    assert odd.model_dump_json() == naive.model_dump_json()


def test_offset_with_seconds_is_echoed_as_rfc3339_on_both_paths(north_lincs: fc.Pack) -> None:
    # Kathmandu kept +05:41:16 until 1986; RFC 3339 offsets are whole minutes.
    as_of = datetime(1985, 6, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=41, seconds=16)))
    case = _case(_visit("1985-05-30T10:00:00"))
    typed = json.loads(north_lincs.assess(case, as_of).model_dump_json())["as_of"]
    plain = json.loads(north_lincs.assess_json(json.dumps(case), as_of))["as_of"]
    assert typed == plain == "1985-06-01T06:18:44+00:00"
