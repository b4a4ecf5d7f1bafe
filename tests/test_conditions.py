"""Conditions compile once into closures; each operator and combinator, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import failedcontact as fc
from failedcontact.pack.conditions import Compiled, ConditionCompiler, Judged
from failedcontact.pack.facts import FACTS, Context, Moment, Summary
from failedcontact.source.reader import Located, read_yaml

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)
CASE = fc.parse_case(
    {
        "case_id": "C",
        "service": "universal",
        "child": {"date_of_birth": "2022-06-01", "plan": "child_in_need", "disability": True},
        "household": {"landlord": "Ongo Homes", "local_authority": "north_lincolnshire"},
        "flags": ["demo_flag"],
        "events": [{"at": "2026-11-23T10:00:00+00:00", "type": "home_visit",
                    "outcome": "no_response"}],
    }
)  # fmt: skip
VISIT = Moment(CASE.events[0], 0, AT, AT.timestamp(), "no_access", 2, False)
DOMAINS = {"flags": ("demo_flag", "other_flag"), "failed_contact_kind": ("no_access",)}


def _source() -> Located:
    located = read_yaml("when: {}\n", "test.yaml")
    assert isinstance(located, Located)
    return located


def _compile(condition: Any, context: Context = Context.RULE) -> tuple[Compiled, list[Any]]:
    compiler = ConditionCompiler(_source(), DOMAINS, {"no_access": frozenset({"home_visit"})})
    compiled = compiler.compile(condition, ("when",), context)
    return compiled, compiler.diagnostics


TRUE_AND_FALSE = [
    ({"plan": "child_in_need"}, True),
    ({"plan": "child_protection"}, False),
    ({"plan": {"in": ["early_help", "child_in_need"]}}, True),
    ({"plan": {"not_in": ["early_help", "child_in_need"]}}, False),
    ({"landlord": "ONGO homes"}, True),
    ({"landlord": " ongo   HOMES "}, True),
    ({"landlord": {"in": ["other", "ongo homes"]}}, True),
    ({"landlord": {"is_known": True}}, True),
    ({"tenure": {"is_known": True}}, True),
    ({"age_years": {"less_than": 5}}, True),  # 4 on 23 Nov 2026
    ({"age_years": {"at_least": 5}}, False),
    ({"age_years": 4}, True),
    ({"failed_contacts": {"at_least": 2, "at_most": 2}}, True),
    ({"failed_contacts": {"more_than": 2}}, False),
    ({"failed_contacts": {"in": [1, 3]}}, False),
    ({"disability": True}, True),
    ({"unborn": True}, False),
    ({"flags": {"contains": "demo_flag"}}, True),
    ({"flags": {"contains": ["demo_flag", "other_flag"]}}, False),
    ({"flags": {"contains_any": ["demo_flag", "other_flag"]}}, True),
    ({"event": "home_visit"}, True),
    ({"outcome": {"in": ["no_response", "doorstep"]}}, True),
    ({"failed_contact": True}, True),
    ({"failed_contact_kind": "no_access"}, True),
    ({"concern_level": "welfare"}, False),
    ({"all": [{"plan": "child_in_need"}, {"failed_contacts": 2}]}, True),
    ({"all": [{"plan": "child_in_need"}, {"failed_contacts": 3}]}, False),
    ({"any": [{"plan": "none"}, {"failed_contacts": 2}]}, True),
    ({"any": [{"plan": "none"}, {"failed_contacts": 3}]}, False),
    ({"not": {"plan": "none"}}, True),
    ({"plan": "child_in_need", "service": "universal"}, True),  # keys combine with and
]


@pytest.mark.parametrize(
    ("condition", "expected"), TRUE_AND_FALSE, ids=[str(c) for c, _ in TRUE_AND_FALSE]
)
def test_condition(condition: dict[str, Any], expected: bool) -> None:
    compiled, diagnostics = _compile(condition)
    assert diagnostics == []
    assert compiled.test(CASE, VISIT) is expected


@pytest.mark.parametrize(
    ("condition", "expected"), TRUE_AND_FALSE, ids=[str(c) for c, _ in TRUE_AND_FALSE]
)
def test_the_analysis_judges_the_same_closures_on_an_assignment(
    condition: dict[str, Any], expected: bool
) -> None:
    # one closure serves the engine (a case and a moment) and the static analysis (no case
    # and the facts' values): typed `Predicate` and `AssignmentTest`, the same answers
    engine = ConditionCompiler(_source(), DOMAINS)
    tree = engine.parse(condition, ("when",), Context.RULE)
    judge = ConditionCompiler(_source(), DOMAINS, assignments=True)
    judged: Judged = judge.judge(tree)
    assignment = {name: FACTS[name].getter(CASE, VISIT) for name in judged.facts}
    assert judged.test(None, assignment) is expected
    assert judged.text == engine.tree(tree).text
    with pytest.raises(AssertionError, match="reads cases"):
        engine.judge(tree)


def test_unknown_age_fails_every_comparison_but_is_known_false() -> None:
    unborn = fc.parse_case({"case_id": "U", "child": {"unborn": True}})
    for condition, expected in [
        ({"age_years": {"less_than": 5}}, False),
        ({"age_years": {"at_least": 0}}, False),
        ({"age_years": {"is_known": False}}, True),
    ]:
        compiled, _ = _compile(condition)
        assert compiled.test(unborn, VISIT) is expected


def test_summary_facts_in_risk_context() -> None:
    summary = Summary(AT, 3, False, None)
    summary.patterns = frozenset({"closure"})
    compiled, _ = _compile({"patterns": {"contains": "closure"}}, Context.RISK)
    assert compiled.test(CASE, summary) is True


def test_description_reads_as_english() -> None:
    compiled, _ = _compile(
        {"all": [{"plan": "child_in_need"}, {"failed_contacts": {"at_least": 2}}]}
    )
    assert compiled.text == "plan is `child_in_need` and failed_contacts at least 2"


@pytest.mark.parametrize(
    ("condition", "event_types"),
    [
        ({"event": "address_change"}, {"address_change"}),
        ({"outcome": "rearranged_by_family"}, {"appointment"}),
        ({"failed_contact": True}, {"home_visit"}),
        ({"any": [{"event": "service_refused"}, {"failed_contact": True}]},
         {"service_refused", "home_visit"}),
        ({"all": [{"event": {"in": ["call", "message"]}}, {"event": "call"}]}, {"call"}),
        ({"not": {"event": "call"}}, None),
        ({"plan": "none"}, None),
    ],
)  # fmt: skip
def test_event_type_filters_are_sound(condition: Any, event_types: set[str] | None) -> None:
    compiled, _ = _compile(condition, Context.PATTERN)
    assert compiled.event_types == (None if event_types is None else frozenset(event_types))


@pytest.mark.parametrize(
    "condition",
    [
        {"count": {"of": {"event": "concern"}, "at_least": 2}},
        {"count": {"of": {"event": "concern"}, "at_least": 2, "scope": "run"}},
        {"count": {"of": {"event": "call"}, "equals": 1, "within": {"days": 3}}},
        {"count": {"of": {"event": "call"}, "at_most": 2, "within": {"months": 1}}},
        {"count": {"of": {"event": "call"}, "at_least": 1, "since": {"event": "concern"}}},
        {"count": {"of": {"failed_contact": True}, "more_than": 1,
                   "scope": "since_failed_contact"}},
    ],
    ids=["history", "run", "days", "months", "since", "since-failed"],
)  # fmt: skip
def test_indexed_count_agrees_with_a_direct_scan(condition: dict[str, Any]) -> None:
    # The engine indexes each count once per assessment; the answer must be the scan's.
    compiled, problems = _compile(condition)
    assert not problems
    kinds = ["concern", "call", "home_visit", "call", "concern", "call", "home_visit", "call"]
    timeline: list[Moment] = []
    for position, kind in enumerate(kinds):
        event: dict[str, Any] = {"at": f"2026-11-{position + 10}T10:00:00+00:00", "type": kind}
        if kind == "concern":
            event["level"] = "welfare"
        elif kind == "call":
            event["outcome"] = "no_answer"
        else:
            event["outcome"] = "no_response"
        parsed = fc.parse_case({"case_id": "I", "events": [event]}).events[0]
        failed = "no_access" if kind == "home_visit" else None
        moment = Moment(parsed, position, parsed.at, parsed.at.timestamp(), failed, 0, False)
        moment.timeline, moment.position = timeline, position
        moment.run_start = 3
        moment.failed_position = 6 if position >= 6 else (2 if position >= 2 else -1)
        timeline.append(moment)
    memo: dict[object, Any] = {}
    for moment in timeline:
        moment.memo = None
        direct = compiled.test(CASE, moment)
        moment.memo = memo
        assert compiled.test(CASE, moment) is direct, moment.position
