"""Contract 1.1 (../shared/CONTRACT.md, "Contract 1.1 (additive)"): events, outcomes, fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import failedcontact as fc
from failedcontact.model.vocabulary import SHARED_ACTION_CATEGORIES, ActionCategory

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)


def _case(*events: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"case_id": "T-11", "child": {"date_of_birth": "2012-01-01"}, "events": list(events)}


def _visit(at: str, outcome: str = "no_response") -> dict[str, Any]:
    return {"at": at, "type": "home_visit", "outcome": outcome}


@pytest.mark.parametrize(
    "event",
    [
        {"type": "referral", "kind": "section_47", "source": "police"},
        {"type": "referral", "kind": "contact"},
        {"type": "plan_change", "plan": "child_protection"},
        {"type": "plan_change", "plan": "none"},
        {"type": "review", "kind": "core_group"},
        {"type": "home_visit", "outcome": "seen_not_alone"},
        {"type": "home_visit", "outcome": "seen_alone_refused"},
    ],
    ids=lambda e: f"{e['type']}-{e.get('kind') or e.get('plan') or e.get('outcome')}",
)
def test_new_events_are_valid_input(north_lincs: fc.Pack, event: dict[str, Any]) -> None:
    case = _case({"at": "2026-11-23T10:00:00", **event})
    assert north_lincs.assess(case, AS_OF).contract == "1.2"


@pytest.mark.parametrize(
    ("event", "path"),
    [
        ({"type": "referral", "kind": "section_48"}, "events[0].kind"),
        ({"type": "referral"}, "events[0].kind"),
        ({"type": "plan_change", "plan": "cp"}, "events[0].plan"),
        ({"type": "review", "kind": "strategy"}, "events[0].kind"),
        ({"type": "review", "kind": "cin_review", "extra": 1}, "events[0].extra"),
    ],
    ids=["bad-referral-kind", "referral-without-kind", "bad-plan", "bad-review", "unknown-field"],
)
def test_bad_new_events_name_the_field(event: dict[str, Any], path: str) -> None:
    with pytest.raises(fc.CaseError) as caught:
        fc.parse_case(_case({"at": "2026-11-23T10:00:00", **event}))
    assert path in [issue.path for issue in caught.value.issues]


def test_seen_not_alone_ends_the_run_like_child_seen(north_lincs: fc.Pack) -> None:
    # Contract 1.1: `seen_not_alone` ends the run of failed contacts like `child_seen`.
    case = _case(
        _visit("2026-11-16T10:00:00"),
        _visit("2026-11-18T10:00:00", "seen_not_alone"),
        _visit("2026-11-23T10:00:00"),
    )
    assessment = north_lincs.assess(case, AS_OF)
    assert assessment.failed_contacts == 1
    assert assessment.last_seen is not None
    assert assessment.last_seen.isoformat() == "2026-11-18T10:00:00+00:00"


def test_seen_alone_refused_does_not_end_the_run(north_lincs: fc.Pack) -> None:
    # The child was not seen alone: nothing says the child was seen, so the run goes on.
    case = _case(
        _visit("2026-11-16T10:00:00"),
        _visit("2026-11-18T10:00:00", "seen_alone_refused"),
        _visit("2026-11-23T10:00:00"),
    )
    assessment = north_lincs.assess(case, AS_OF)
    assert assessment.last_seen is None
    assert assessment.failed_contacts == 2


@pytest.mark.parametrize("pack_id", fc.bundled_ids())
def test_every_action_has_its_category(pack_id: str) -> None:
    pack = fc.load_pack(pack_id)
    seen = {r.action: r.category for rule in pack.compiled.rules for r in rule.requires} | {
        d.requirement.action: d.requirement.category for d in pack.compiled.duties
    }
    for action_id, category in seen.items():
        assert isinstance(category, ActionCategory)
        if action_id in SHARED_ACTION_CATEGORIES:
            assert category is SHARED_ACTION_CATEGORIES[action_id], action_id


def test_actions_are_listed_most_urgent_first(north_lincs: fc.Pack) -> None:
    # Contract 1.1: overdue (earliest due first), outstanding with a due time, without one, done.
    case = _case(
        _visit("2026-11-02T10:00:00"),
        _visit("2026-11-23T10:00:00"),
        {"at": "2026-11-24T10:00:00", "type": "action", "action": "check_address"},
    )
    actions = north_lincs.assess(case, AS_OF).actions
    ranks = []
    for action in actions:
        status = action.status.value
        ranks.append(
            {"overdue": 0, "outstanding": 1 if action.due is not None else 2, "done": 3}[status]
        )
    assert ranks == sorted(ranks), [(a.id, a.status.value) for a in actions]
    assert {a.status.value for a in actions} >= {"outstanding", "done"}
    dated = [a.due for a in actions if a.status.value != "done" and a.due is not None]
    by_rank: dict[int, list[datetime]] = {}
    for rank, action in zip(ranks, actions, strict=True):
        if action.due is not None and rank < 3:
            by_rank.setdefault(rank, []).append(action.due)
    for dues in by_rank.values():
        assert dues == sorted(dues)
    assert dated, "the case should have actions with a due time"


@pytest.mark.parametrize(
    ("events", "started", "event"),
    [
        ([], "2026-11-25T09:00:00+00:00", None),
        ([_visit("2026-11-16T10:00:00")], "2026-11-16T10:00:00+00:00", 0),
        (
            [
                _visit("2026-11-16T10:00:00"),
                {"at": "2026-11-20T10:00:00", "type": "referral", "kind": "contact"},
                _visit("2026-11-23T10:00:00"),
            ],
            "2026-11-20T10:00:00+00:00",
            1,
        ),
        (
            [
                {"at": "2026-11-23T10:00:00", "type": "support_request"},
                _visit("2026-11-16T10:00:00"),
            ],
            "2026-11-23T10:00:00+00:00",
            0,
        ),
    ],
    ids=["no-events", "first-event", "referral-opens", "support-request-opens-unsorted-input"],
)
def test_episode(
    north_lincs: fc.Pack, events: list[dict[str, Any]], started: str, event: int | None
) -> None:
    document = north_lincs.assess(_case(*events), AS_OF).model_dump(mode="json")
    assert document["episode"] == {"started": started, "event": event}


def test_closure_ignores_evidence_from_an_earlier_episode() -> None:
    # Contract 1.1: evidence recorded before the episode began does not satisfy closure
    # (Suffolk 9.4: a rationale and the manager's approval belong to this closure).
    suffolk = fc.load_pack("suffolk")
    done = [
        {"at": "2026-06-01T10:00:00", "type": "action", "action": action}
        for action in ("suffolk.record_closure_rationale", "suffolk.manager_approves_closure")
    ]
    earlier = suffolk.assess(
        {**_case(*done, {"at": "2026-11-02T10:00:00", "type": "support_request"})}, AS_OF
    )
    unmet = {u.id for u in earlier.closure.unmet} if earlier.closure else set()
    assert {"suffolk.rationale_recorded", "suffolk.manager_approved"} <= unmet
    same = suffolk.assess(
        {**_case({"at": "2026-05-02T10:00:00", "type": "support_request"}, *done)}, AS_OF
    )
    unmet = {u.id for u in same.closure.unmet} if same.closure else set()
    assert not {"suffolk.rationale_recorded", "suffolk.manager_approved"} & unmet
