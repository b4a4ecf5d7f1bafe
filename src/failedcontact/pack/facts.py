"""The declared facts a pack condition may test, and the moment they are read at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..model.case import UK, Case, age_in_years
from ..model.vocabulary import (
    OUTCOME_EVENT_TYPES,
    OUTCOMES_BY_EVENT,
    Channel,
    ConcernLevel,
    EventType,
    Plan,
    ReferralKind,
    ReviewKind,
    RiskTier,
    Service,
    Tenure,
)


class Moment:
    """One point at which conditions are evaluated: an event, or `as_of` itself."""

    __slots__ = (
        "absence_days",
        "at",
        "episode_start",
        "event",
        "failed_position",
        "index",
        "kind",
        "memo",
        "out_of_hours",
        "outcome",
        "plan",
        "position",
        "run_count",
        "run_start",
        "seen_elsewhere",
        "stamp",
        "timeline",
        "type",
    )

    def __init__(
        self,
        event: Any,
        index: int,
        at: datetime,
        stamp: float,
        kind: str | None,
        run_count: int,
        seen_elsewhere: bool,
        timeline: list[Moment] | None = None,
        position: int = 0,
        run_start: int = 0,
        episode_start: int = 0,
        failed_position: int = -1,
        memo: dict[object, Any] | None = None,
        plan: str | None = None,
    ) -> None:
        self.event = event
        # The child's plan at this moment (contract 1.2: a history); None outside the
        # engine, where the `plan` fact reads the case's `child.plan`.
        self.plan = plan
        self.type: str | None = event.type if event is not None else None
        self.outcome: str | None = event.outcome if self.type in OUTCOME_EVENT_TYPES else None
        self.index = index
        self.at = at
        self.stamp = stamp
        self.kind = kind
        self.run_count = run_count
        self.seen_elsewhere = seen_elsewhere
        # The moments so far, this one's place and its run's start (the engine passes them;
        # it makes twenty or so moments per case, so they are set here in one call).
        self.timeline: list[Moment] = timeline if timeline is not None else []
        self.position = position
        self.run_start = run_start
        self.episode_start = episode_start  # position of the event that opened the episode
        self.failed_position = failed_position  # latest failed contact so far (-1: none)
        self.out_of_hours: bool | None = None
        # Shared by every moment of one assessment (and only that one): indexes that make
        # `count` conditions linear in the history. None outside the engine.
        self.memo = memo
        self.absence_days: int | None = None


class Summary(Moment):
    """The moment `as_of`, with what the assessment has found so far."""

    __slots__ = (
        "actions_done",
        "concern_levels",
        "last_seen",
        "open_actions",
        "overdue_actions",
        "patterns",
        "risk_tier",
    )

    def __init__(
        self, at: datetime, run_count: int, seen_elsewhere: bool, last_seen: datetime | None
    ) -> None:
        super().__init__(None, -1, at, at.timestamp(), None, run_count, seen_elsewhere)
        self.last_seen = last_seen
        self.patterns: frozenset[str] = frozenset()
        self.concern_levels: frozenset[str] = frozenset()
        self.open_actions = 0
        self.overdue_actions = 0
        self.actions_done: frozenset[str] = frozenset()
        self.risk_tier: str | None = None  # set once the risk rules have run


class Kind(StrEnum):
    """The type of a fact, which decides the operators it takes."""

    ENUM = "enum"
    BOOL = "bool"
    INT = "int"
    TEXT = "text"
    SET = "set"


class Context(StrEnum):
    """Where in a pack a condition is evaluated."""

    RULE = "rule"
    PATTERN = "pattern"
    RISK = "risk"
    CLOSURE = "closure"
    AS_OF = "as_of"  # a rule `on: [as_of]`: the case as it stands at `as_of`
    DUTY = "duty"  # whether a recurring duty applies, at `as_of`


ALL = frozenset(Context)
EVENT = frozenset({Context.RULE, Context.PATTERN})
SUMMARY = frozenset({Context.RISK, Context.CLOSURE, Context.AS_OF, Context.DUTY})
CLOSING = frozenset({Context.CLOSURE})
AFTER_RISK = frozenset({Context.CLOSURE, Context.AS_OF, Context.DUTY})  # the tier is known

Getter = Callable[[Case, Moment], Any]

# Facts that do not change within one assessment: a rule's test on them runs once per case.
CASE_FACTS = frozenset(
    {
        "service",
        "tenure",
        "landlord",
        "local_authority",
        "unborn",
        "disability",
        "known_to_childrens_services",
        "previous_concerns",
        "cp_plan_in_last_year",
        "home_educated",
        "urgent_health_need",
        "known_violence",
        "communication_needs",
        "flags",
    }
)


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact's name, type, domain, where it may be used and how to read it."""

    name: str
    kind: Kind
    description: str
    getter: Getter
    contexts: frozenset[Context] = ALL
    domain: tuple[str, ...] | None = None  # None: open (text) or taken from the pack
    event_type: str | None = None  # the one event type that has this fact, if any
    # The `Moment` attribute that holds the fact, when one does: compiled tests then read it
    # directly instead of calling `getter` (two Python calls per test become one).
    attribute: str | None = None


def _age(case: Case, moment: Moment) -> int | None:
    born = case.child.date_of_birth
    if born is None or case.child.unborn:
        return None
    return age_in_years(born, moment.at.astimezone(UK).date())


def _plan(case: Case, moment: Moment) -> Any:
    plan = moment.plan
    return plan if plan is not None else case.child.plan


# What a home visit achieved (contract 1.2): each a yes-or-no fact of the visit.
_VISIT_FACTS = (
    ("seen_alone", "the child was seen alone"),
    ("bedroom_seen", "the child's bedroom was seen"),
    ("seen_awake", "the child (a baby) was seen awake"),
    ("interpreter", "an independent interpreter was used"),
)


def _outcome(case: Case, moment: Moment) -> Any:
    return moment.outcome  # set from the event when the moment is made


def _field_of(event_type: str, name: str) -> Getter:
    """Read an event field that only one event type has (None for every other type)."""

    def read(case: Case, moment: Moment) -> Any:
        return getattr(moment.event, name) if moment.type == event_type else None

    return read


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


_OUTCOMES = tuple(dict.fromkeys(o for outcomes in OUTCOMES_BY_EVENT.values() for o in outcomes))


def _summary_attr(name: str) -> Getter:
    def read(case: Case, moment: Moment) -> Any:
        return getattr(moment, name, None)

    return read


# The registry is written as tables, a fact a row (or two), so it is left as laid out.
# fmt: off
# Yes-or-no facts of the case: (name, what it means, how to read it). The getters are
# written out so that each reads its field directly.
_CASE_FLAGS: tuple[tuple[str, str, Getter], ...] = (
    ("unborn", "the case concerns a pregnancy", lambda c, m: c.child.unborn),
    ("disability", "the child has a disability", lambda c, m: c.child.disability),
    ("known_to_childrens_services", "the child is known to children's services",
     lambda c, m: c.child.known_to_childrens_services),
    ("previous_concerns", "previous concerns are recorded", lambda c, m: c.child.previous_concerns),
    ("cp_plan_in_last_year", "a child protection plan in the last year",
     lambda c, m: c.child.cp_plan_in_last_year),
    ("home_educated", "the child is home educated", lambda c, m: c.child.home_educated),
    ("urgent_health_need", "the child has an urgent health need",
     lambda c, m: c.child.urgent_health_need),
    ("known_violence", "violence is known within the family",
     lambda c, m: c.household.known_violence),
    ("communication_needs", "the family has communication needs",
     lambda c, m: c.household.communication_needs),
)
# fmt: on


def _event_fact(
    name: str,
    kind: Kind,
    description: str,
    event_type: str,
    read: str | Getter,
    domain: tuple[str, ...] | None = None,
) -> Fact:
    """A fact only events of one type have: one of its fields (by name), or a getter."""
    getter = _field_of(event_type, read) if isinstance(read, str) else read
    return Fact(name, kind, description, getter, EVENT, domain, event_type=event_type)


def _summary_fact(
    name: str,
    kind: Kind,
    description: str,
    contexts: frozenset[Context],
    domain: tuple[str, ...] | None = None,
) -> Fact:
    """A fact of the summary at `as_of`: the `Summary` attribute of the same name."""
    return Fact(name, kind, description, _summary_attr(name), contexts, domain)


# Pack-dependent domains (flags, failed-contact kinds, action and pattern ids) are filled
# in by the compiler; the registry itself is immutable.
# fmt: off
FACTS: dict[str, Fact] = {
    fact.name: fact
    for fact in (
        Fact("service", Kind.ENUM, "the service holding the case", lambda c, m: c.service,
             domain=_values(Service)),
        Fact("plan", Kind.ENUM, "the plan the child is subject to at the moment evaluated: at "
             "the triggering event for a rule an event fires, at `as_of` for risk, duties, "
             "closure and rules `on: [as_of]` (the `plan_change` history, contract 1.2)",
             _plan, domain=_values(Plan)),
        Fact("tenure", Kind.ENUM, "how the household holds its home",
             lambda c, m: c.household.tenure, domain=_values(Tenure)),
        Fact("landlord", Kind.TEXT, "the landlord, compared ignoring case and spacing",
             lambda c, m: c.household.landlord),
        Fact("local_authority", Kind.TEXT, "the child's local authority",
             lambda c, m: c.household.local_authority),
        Fact("age_years", Kind.INT, "the child's age in whole years at the moment evaluated; "
             "unknown when no date of birth is given or the child is unborn", _age),
        *(Fact(name, Kind.BOOL, description, get) for name, description, get in _CASE_FLAGS),
        Fact("flags", Kind.SET, "the case flags (declared by the pack)", lambda c, m: c.flags),
        Fact("failed_contacts", Kind.INT, "failed contacts in the current run, up to and "
             "including the moment evaluated", lambda c, m: m.run_count, attribute="run_count"),
        Fact("seen_by_other_agency", Kind.BOOL, "another agency has seen the child since the "
             "child was last seen by the service", lambda c, m: m.seen_elsewhere,
             attribute="seen_elsewhere"),
        Fact("event", Kind.ENUM, "the triggering event's type", lambda c, m: m.type, EVENT,
             _values(EventType), attribute="type"),
        Fact("outcome", Kind.ENUM, "the triggering visit's, appointment's or call's outcome",
             _outcome, EVENT, _OUTCOMES, attribute="outcome"),
        Fact("failed_contact", Kind.BOOL, "the event counts as a failed contact",
             lambda c, m: m.kind is not None, EVENT),
        Fact("failed_contact_kind", Kind.ENUM, "the pack's kind of failed contact",
             lambda c, m: m.kind, EVENT, attribute="kind"),
        _event_fact("concern_level", Kind.ENUM, "a concern event's level", "concern", "level",
                    _values(ConcernLevel)),
        _event_fact("announced", Kind.BOOL, "a home visit was announced", "home_visit",
                    "announced"),
        _event_fact("out_of_hours", Kind.BOOL, "a call was made outside working hours (as "
                    "sent, else derived from the pack's working hours and calendar)", "call",
                    lambda c, m: m.out_of_hours),
        _event_fact("absence_days", Kind.INT, "a worker absence's length in whole days: to "
                    "`until`, or so far (to `as_of`) when open-ended", "worker_absence",
                    lambda c, m: m.absence_days),
        _event_fact("channel", Kind.ENUM, "a message's channel", "message", "channel",
                    _values(Channel)),
        _event_fact("action", Kind.ENUM, "the action id an action event records", "action",
                    "action"),
        _event_fact("referral_kind", Kind.ENUM, "a referral's kind (contract 1.1)", "referral",
                    "kind", _values(ReferralKind)),
        _event_fact("new_plan", Kind.ENUM, "the plan a plan change moves the child to "
                    "(contract 1.1)", "plan_change", "plan", _values(Plan)),
        _event_fact("review_kind", Kind.ENUM, "a review meeting's kind (contract 1.1)", "review",
                    "kind", _values(ReviewKind)),
        _event_fact("initial_conference", Kind.BOOL, "a review is an initial child protection "
                    "conference rather than a review (contract 1.2)", "review", "initial"),
        *(_event_fact(name, Kind.BOOL, f"{what} at a home visit; unknown where not recorded "
                      "(contract 1.2)", "home_visit", name) for name, what in _VISIT_FACTS),
        _summary_fact("concern_levels", Kind.SET, "the levels of every concern raised up to "
                      "the moment", SUMMARY, _values(ConcernLevel)),
        _summary_fact("patterns", Kind.SET, "the patterns found", SUMMARY),
        _summary_fact("open_actions", Kind.INT, "required actions not yet done", CLOSING),
        _summary_fact("overdue_actions", Kind.INT, "required actions past their deadline",
                      CLOSING),
        _summary_fact("risk_tier", Kind.ENUM, "the risk tier at `as_of` (closure, duties and "
                      "rules `on: [as_of]`)", AFTER_RISK, _values(RiskTier)),
        _summary_fact("actions_done", Kind.SET, "action ids recorded as done in the current "
                      "episode", CLOSING),
    )
}
# fmt: on
