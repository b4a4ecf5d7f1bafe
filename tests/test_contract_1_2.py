"""Contract 1.2 (../shared/CONTRACT.md, "Contract 1.2 (additive)"): a case is a history.

Expectations come from the contract's text, quoted in each test; the pack is
tests/data/history_pack.yaml, small enough to read beside them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import failedcontact as fc
from failedcontact.testing.strategies import case_and_as_of

from .conftest import ROOT

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)
PACK = fc.load_pack(ROOT / "tests" / "data" / "history_pack.yaml")


def _case(*events: dict[str, Any], **child: Any) -> dict[str, Any]:
    return {"case_id": "H-1", "child": {"date_of_birth": "2012-01-01", **child},
            "events": list(events)}  # fmt: skip


def _visit(at: str, outcome: str = "no_response", **facts: Any) -> dict[str, Any]:
    return {"at": at, "type": "home_visit", "outcome": outcome, **facts}


def _actions(case: dict[str, Any], as_of: datetime = AS_OF) -> dict[str, list[dict[str, Any]]]:
    document = json.loads(PACK.assess_json(json.dumps(case).encode(), as_of))
    found: dict[str, list[dict[str, Any]]] = {}
    for action in document["actions"]:
        found.setdefault(action["id"], []).append(action)
    return found


def test_the_answer_says_1_2_and_carries_next_change() -> None:
    document = PACK.assess(_case(_visit("2026-11-23T10:00:00")), AS_OF).model_dump(mode="json")
    assert document["contract"] == "1.2"
    # the record of the visit is due at the end of the 2nd working day (25 November) and is
    # overdue the instant after
    assert document["next_change"] == "2026-11-25T23:59:59.000001+00:00"


def test_a_rule_an_event_fires_reads_the_plan_at_that_event() -> None:
    """ "A rule required by an event reads the plan at that event.\""""
    not_yet = _case(
        _visit("2026-11-23T10:00:00"),
        {"at": "2026-11-24T10:00:00", "type": "plan_change", "plan": "child_protection"},
    )
    assert "discuss_with_cp_lead" not in _actions(not_yet)
    stepped_down = _case(
        {"at": "2026-11-20T10:00:00", "type": "plan_change", "plan": "child_protection"},
        _visit("2026-11-23T10:00:00"),
        {"at": "2026-11-23T18:00:00", "type": "plan_change", "plan": "child_in_need"},
    )
    assert "discuss_with_cp_lead" in _actions(stepped_down)  # a duty that arose is kept


def test_risk_reads_the_plan_at_as_of() -> None:
    """ "Risk, duties and closure read the plan at `as_of`.\""""
    case = _case(
        {"at": "2026-11-20T10:00:00", "type": "plan_change", "plan": "child_protection"},
        {"at": "2026-11-23T18:00:00", "type": "plan_change", "plan": "child_in_need"},
    )
    assert PACK.assess(case, AS_OF).risk_tier == "low"
    assert PACK.assess(case, datetime(2026, 11, 22, tzinfo=UTC)).risk_tier == "high"


@pytest.mark.parametrize(
    ("given_plan", "valid"),
    [("child_in_need", True), ("child_protection", False), (None, True)],
    ids=["agrees", "disagrees", "left-out"],
)
def test_child_plan_must_agree_with_the_history_at_as_of(
    given_plan: str | None, valid: bool
) -> None:
    """ "When the case gives `child.plan` and also sends `plan_change` events, the two must
    agree at `as_of`; a mismatch is invalid input naming `child.plan`.\""""
    child = {} if given_plan is None else {"plan": given_plan}
    case = _case({"at": "2026-11-23T18:00:00", "type": "plan_change", "plan": "child_in_need"},
                 **child)  # fmt: skip
    if valid:
        PACK.assess(case, AS_OF)
        return
    with pytest.raises(fc.CaseError) as caught:
        PACK.assess(case, AS_OF)
    assert [issue.path for issue in caught.value.issues] == ["child.plan"]


def test_seeing_the_child_ends_only_what_the_pack_says_it_ends() -> None:
    """ "An action entry leaves the answer when the child is seen ... after its trigger, only
    where the pack says that seeing the child ends that action; other actions stay until
    done. The trace names the visit that ended an action.\""""
    case = _case(_visit("2026-11-16T10:00:00"), _visit("2026-11-18T10:00:00", "child_seen"))
    actions = _actions(case)
    assert "offer_further_appointment" not in actions  # an appointment: seeing ends it
    assert [a["status"] for a in actions["record_failed_contact"]] == ["overdue"]  # a record
    trace = PACK.assess(case, AS_OF).trace
    ended = [t for t in trace if t.id == "ended_when_seen"]
    assert len(ended) == 1 and ended[0].event == 1
    assert "offer_further_appointment" in ended[0].actions


def test_a_per_event_action_has_one_entry_per_trigger_each_with_its_status() -> None:
    """ "The answer has one entry per triggering event, each with its own status; the pair
    (`id`, `trigger.event`) is unique.\""""
    case = _case(
        _visit("2026-11-16T10:00:00"),
        _visit("2026-11-18T10:00:00"),
        {"at": "2026-11-19T10:00:00", "type": "action", "action": "record_failed_contact"},
    )
    records = _actions(case)["record_failed_contact"]
    assert sorted((r["trigger"]["event"], r["status"]) for r in records) == [
        (0, "done"),  # the record completes the earliest visit not yet written up
        (1, "overdue"),  # due at the end of 20 November, never written up
    ]


@pytest.mark.parametrize(
    ("within", "due", "set_by"),
    [
        ({"working_days": 8}, "2026-12-03T23:59:59+00:00", 0),
        ({"working_days": 20}, "2026-11-30T23:59:59+00:00", None),  # past the bound of 10
    ],
    ids=["within-the-bound", "longer-than-the-bound"],
)
def test_a_timescale_set_for_the_child(
    within: dict[str, int], due: str, set_by: int | None
) -> None:
    """ "The latest one at or before the trigger (for `within`) ... applies"; "a timescale
    longer than the pack's bound for it is not applied: the pack's own timescale stands and
    the trace says why.\""""
    case = _case(
        {"at": "2026-11-20T10:00:00", "type": "timescale", "for": "offer_further_appointment",
         "within": within},
        _visit("2026-11-23T10:00:00"),
    )  # fmt: skip
    (action,) = _actions(case)["offer_further_appointment"]
    assert action["due"] == due
    assert action.get("timescale_set_by") == set_by
    notes = [t.why for t in PACK.assess(case, AS_OF).trace if t.id == "offer_further_appointment"]
    assert bool(notes) is (set_by is None)


def test_a_timescale_the_pack_does_not_accept_names_events_for() -> None:
    """ "A `timescale` for an action or duty the pack does not let a case set is invalid input
    naming `events[i].for` and listing the ids that accept one.\""""
    case = _case({"at": "2026-11-20T10:00:00", "type": "timescale", "for": "discuss_with_cp_lead",
                  "within": "immediately"})  # fmt: skip
    with pytest.raises(fc.CaseError) as caught:
        PACK.assess(case, AS_OF)
    (issue,) = caught.value.issues
    assert issue.path == "events[0].for" and "offer_further_appointment" in issue.message


def test_a_duty_takes_the_frequency_set_for_the_child() -> None:
    case = _case(
        {"at": "2026-11-02T10:00:00", "type": "plan_change", "plan": "child_protection"},
        {"at": "2026-11-02T11:00:00", "type": "timescale", "for": "further_visit",
         "every": {"weeks": 1}},
    )  # fmt: skip
    (visit,) = _actions(case)["further_visit"]
    assert visit["recurring"] and visit["timescale_set_by"] == 1
    assert visit["due"] == "2026-11-09T23:59:59+00:00" and visit["status"] == "overdue"


@pytest.mark.parametrize(
    ("record_at", "status"),
    [(None, "overdue"), ("2026-11-18T10:00:00", "done"), ("2026-11-10T10:00:00", "overdue")],
    ids=["never-recorded", "recorded-after-the-gap", "recorded-before-the-gap"],
)
def test_a_step_starts_when_a_duty_falls_overdue(record_at: str | None, status: str) -> None:
    """Issue 27, "a step that starts when a gap passes ... with its clock at the end of the
    gap": the plan's visits fall due two weeks from the plan's start (16 November); the
    manager's review is then due within one working day (17 November)."""
    events: list[dict[str, Any]] = [
        {"at": "2026-11-02T10:00:00", "type": "plan_change", "plan": "child_protection"}
    ]
    if record_at is not None:
        events.append({"at": record_at, "type": "action", "action": "history.manager_review"})
    (review,) = _actions(_case(*events))["history.manager_review"]
    assert review["trigger"] == {"event": 0, "at": "2026-11-16T23:59:59+00:00"}
    assert review["due"] == "2026-11-17T23:59:59+00:00"
    assert review["status"] == status


def test_a_booked_review_completes_ends_and_opens_nothing() -> None:
    """ "A booked review has not happened: ... it completes nothing, ends nothing and opens
    nothing.\""""
    review = {"type": "review", "kind": "cp_conference"}
    held = _case(_visit("2026-11-23T10:00:00"), {"at": "2026-11-24T10:00:00", **review})
    booked = _case(
        _visit("2026-11-23T10:00:00"), {"at": "2026-12-01T10:00:00", **review, "booked": True}
    )
    assert _actions(booked).keys() == _actions(held).keys()
    assessment = PACK.assess(booked, AS_OF)
    assert any(t.id == "booked" for t in assessment.trace)
    assert all(t.id != "after_as_of" for t in assessment.trace)  # not an event to come


def test_visit_facts_are_read_and_unknown_when_absent() -> None:
    case = fc.parse_case(_case(_visit("2026-11-23T10:00:00", "child_seen", seen_alone=True)))
    visit = case.events[0]
    assert visit.seen_alone is True and visit.bedroom_seen is None  # type: ignore[union-attr]


def test_a_rule_on_as_of_reads_the_risk_tier() -> None:
    case = _case({"at": "2026-11-20T10:00:00", "type": "plan_change", "plan": "child_protection"})
    assert "inform_line_manager" in _actions(case)


def test_an_unmet_closure_condition_names_the_action_that_meets_it() -> None:
    """ "`closure.unmet[]` entries gain `action`: the action id whose record meets the
    condition.\""""
    closure = PACK.assess(_case(_visit("2026-11-23T10:00:00")), AS_OF).closure
    assert closure is not None
    assert [(u.id, u.action) for u in closure.unmet] == [("manager_told", "inform_line_manager")]


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The answer without what moves with `as_of` itself (docs/decisions.md, next_change)."""
    document = dict(document)
    for key in ("as_of", "next_change"):
        document.pop(key)
    if document["episode"]["event"] is None:
        document["episode"] = None
    document["actions"] = [
        {k: v for k, v in a.items() if k not in ("due", "trigger")}
        if a["trigger"]["event"] is None
        else a
        for a in document["actions"]
    ]
    return document


@pytest.mark.parametrize(
    "pack_id", ["north_lincs", "suffolk", "derbyshire", "pan_beds", "ne_lincs"]
)
@settings(max_examples=15)
@given(data=st.data())
def test_next_change_is_the_first_instant_the_answer_differs(
    pack_id: str, data: st.DataObject
) -> None:
    """ "`next_change`: the earliest instant after `as_of` at which this assessment would
    differ if no event were added": just before it the answer is the same, at it different."""
    pack = fc.load_pack(pack_id)
    case, as_of = data.draw(case_and_as_of(pack, max_events=12))
    document = pack.assess(case, as_of).model_dump(mode="json")
    if document["next_change"] is None:
        later = pack.assess(case, as_of + timedelta(days=400)).model_dump(mode="json")
        assert _comparable(later) == _comparable(document)
        return
    at = datetime.fromisoformat(document["next_change"])
    assert at > as_of
    before = pack.assess(case, at - timedelta(microseconds=1)).model_dump(mode="json")
    after = pack.assess(case, at).model_dump(mode="json")
    assert _comparable(before) == _comparable(document)
    assert _comparable(after) != _comparable(document)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (("duty: plan_visits", "duty: plan_visit"), "unknown duty `plan_visit`"),
        (("    duty: plan_visits\n", ""), "names no `duty`"),
        (("on: [duty_overdue]", "on: [duty_overdue, as_of]"), "is its only trigger"),
    ],
    ids=["unknown-duty", "no-duty", "other-triggers"],
)
def test_a_gap_rule_must_name_one_duty(change: tuple[str, str], said: str) -> None:
    text = (ROOT / "tests" / "data" / "history_pack.yaml").read_text(encoding="utf-8")
    broken = text.replace(*change)
    assert broken != text
    with pytest.raises(fc.PackError) as caught:
        fc.load_pack(text=broken)
    found = [d for d in caught.value.diagnostics if d.code == "pack.unknown-duty"]
    assert found and said in found[0].message


def test_a_closure_condition_must_name_an_action_the_pack_defines() -> None:
    text = (ROOT / "tests" / "data" / "history_pack.yaml").read_text(encoding="utf-8")
    broken = text.replace(
        "      when: {actions_done: {contains: inform_line_manager}}",
        "      when: {actions_done: {contains: inform_line_manager}}\n"
        "      action: inform_line_manger",
    )
    with pytest.raises(fc.PackError) as caught:
        fc.load_pack(text=broken)
    (found,) = [d for d in caught.value.diagnostics if d.code == "pack.unknown-action"]
    assert "inform_line_manger" in found.message and "inform_line_manager" in (found.help or "")


def test_a_moved_summary_keeps_every_field_but_its_instant() -> None:
    """`Summary.moved` names the fields by hand (a compiled class has no `__slots__` to read):
    every slot is in its lists, so a new field cannot be forgotten."""
    from failedcontact.pack import facts

    if not hasattr(facts.Moment, "__slots__"):  # CI's second pass runs it on pure Python
        pytest.skip("the compiled build keeps no __slots__ to compare with")
    assert set(facts._MOMENT_STATE) | {"at", "stamp"} == set(facts.Moment.__slots__)
    assert set(facts._SUMMARY_STATE) == set(facts.Summary.__slots__)
