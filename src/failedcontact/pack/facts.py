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
    ) -> None:
        self.event = event
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


ALL = frozenset(Context)
EVENT = frozenset({Context.RULE, Context.PATTERN})
SUMMARY = frozenset({Context.RISK, Context.CLOSURE})
CLOSING = frozenset({Context.CLOSURE})

Getter = Callable[[Case, Moment], Any]

# Facts that do not change within one assessment: a rule's test on them runs once per case.
CASE_FACTS = frozenset(
    {
        "service",
        "plan",
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


# Pack-dependent domains (flags, failed-contact kinds, action and pattern ids) are filled
# in by the compiler; the registry itself is immutable.
FACTS: dict[str, Fact] = {
    fact.name: fact
    for fact in (
        Fact(
            "service",
            Kind.ENUM,
            "the service holding the case",
            lambda c, m: c.service,
            domain=_values(Service),
        ),
        Fact(
            "plan",
            Kind.ENUM,
            "the plan the child is subject to",
            lambda c, m: c.child.plan,
            domain=_values(Plan),
        ),
        Fact(
            "tenure",
            Kind.ENUM,
            "how the household holds its home",
            lambda c, m: c.household.tenure,
            domain=_values(Tenure),
        ),
        Fact(
            "landlord",
            Kind.TEXT,
            "the landlord, compared ignoring case and spacing",
            lambda c, m: c.household.landlord,
        ),
        Fact(
            "local_authority",
            Kind.TEXT,
            "the child's local authority",
            lambda c, m: c.household.local_authority,
        ),
        Fact(
            "age_years",
            Kind.INT,
            "the child's age in whole years at the moment evaluated; "
            "unknown when no date of birth is given or the child is unborn",
            _age,
        ),
        Fact("unborn", Kind.BOOL, "the case concerns a pregnancy", lambda c, m: c.child.unborn),
        Fact(
            "disability", Kind.BOOL, "the child has a disability", lambda c, m: c.child.disability
        ),
        Fact(
            "known_to_childrens_services",
            Kind.BOOL,
            "the child is known to children's services",
            lambda c, m: c.child.known_to_childrens_services,
        ),
        Fact(
            "previous_concerns",
            Kind.BOOL,
            "previous concerns are recorded",
            lambda c, m: c.child.previous_concerns,
        ),
        Fact(
            "cp_plan_in_last_year",
            Kind.BOOL,
            "a child protection plan in the last year",
            lambda c, m: c.child.cp_plan_in_last_year,
        ),
        Fact(
            "home_educated",
            Kind.BOOL,
            "the child is home educated",
            lambda c, m: c.child.home_educated,
        ),
        Fact(
            "urgent_health_need",
            Kind.BOOL,
            "the child has an urgent health need",
            lambda c, m: c.child.urgent_health_need,
        ),
        Fact(
            "known_violence",
            Kind.BOOL,
            "violence is known within the family",
            lambda c, m: c.household.known_violence,
        ),
        Fact(
            "communication_needs",
            Kind.BOOL,
            "the family has communication needs",
            lambda c, m: c.household.communication_needs,
        ),
        Fact("flags", Kind.SET, "the case flags (declared by the pack)", lambda c, m: c.flags),
        Fact(
            "failed_contacts",
            Kind.INT,
            "failed contacts in the current run, up to and including the moment evaluated",
            lambda c, m: m.run_count,
            attribute="run_count",
        ),
        Fact(
            "seen_by_other_agency",
            Kind.BOOL,
            "another agency has seen the child since the child was last seen by the service",
            lambda c, m: m.seen_elsewhere,
            attribute="seen_elsewhere",
        ),
        Fact(
            "event",
            Kind.ENUM,
            "the triggering event's type",
            lambda c, m: m.type,
            EVENT,
            _values(EventType),
            attribute="type",
        ),
        Fact(
            "outcome",
            Kind.ENUM,
            "the triggering visit's, appointment's or call's outcome",
            _outcome,
            EVENT,
            _OUTCOMES,
            attribute="outcome",
        ),
        Fact(
            "failed_contact",
            Kind.BOOL,
            "the event counts as a failed contact",
            lambda c, m: m.kind is not None,
            EVENT,
        ),
        Fact(
            "failed_contact_kind",
            Kind.ENUM,
            "the pack's kind of failed contact",
            lambda c, m: m.kind,
            EVENT,
            attribute="kind",
        ),
        Fact(
            "concern_level",
            Kind.ENUM,
            "a concern event's level",
            _field_of("concern", "level"),
            EVENT,
            _values(ConcernLevel),
            event_type="concern",
        ),
        Fact(
            "announced",
            Kind.BOOL,
            "a home visit was announced",
            _field_of("home_visit", "announced"),
            EVENT,
            event_type="home_visit",
        ),
        Fact(
            "out_of_hours",
            Kind.BOOL,
            "a call was made outside working hours (as sent, else derived from the pack's "
            "working hours and calendar)",
            lambda c, m: m.out_of_hours,
            EVENT,
            event_type="call",
        ),
        Fact(
            "absence_days",
            Kind.INT,
            "a worker absence's length in whole days: to `until`, or so far (to `as_of`) "
            "when open-ended",
            lambda c, m: m.absence_days,
            EVENT,
            event_type="worker_absence",
        ),
        Fact(
            "channel",
            Kind.ENUM,
            "a message's channel",
            _field_of("message", "channel"),
            EVENT,
            _values(Channel),
            event_type="message",
        ),
        Fact(
            "action",
            Kind.ENUM,
            "the action id an action event records",
            _field_of("action", "action"),
            EVENT,
            event_type="action",
        ),
        Fact(
            "referral_kind",
            Kind.ENUM,
            "a referral's kind (contract 1.1)",
            _field_of("referral", "kind"),
            EVENT,
            _values(ReferralKind),
            event_type="referral",
        ),
        Fact(
            "new_plan",
            Kind.ENUM,
            "the plan a plan change moves the child to (contract 1.1)",
            _field_of("plan_change", "plan"),
            EVENT,
            _values(Plan),
            event_type="plan_change",
        ),
        Fact(
            "review_kind",
            Kind.ENUM,
            "a review meeting's kind (contract 1.1)",
            _field_of("review", "kind"),
            EVENT,
            _values(ReviewKind),
            event_type="review",
        ),
        Fact(
            "concern_levels",
            Kind.SET,
            "the levels of every concern raised up to the moment",
            _summary_attr("concern_levels"),
            SUMMARY,
            _values(ConcernLevel),
        ),
        Fact("patterns", Kind.SET, "the patterns found", _summary_attr("patterns"), SUMMARY),
        Fact(
            "open_actions",
            Kind.INT,
            "required actions not yet done",
            _summary_attr("open_actions"),
            CLOSING,
        ),
        Fact(
            "overdue_actions",
            Kind.INT,
            "required actions past their deadline",
            _summary_attr("overdue_actions"),
            CLOSING,
        ),
        Fact(
            "actions_done",
            Kind.SET,
            "action ids recorded as done in the current episode",
            _summary_attr("actions_done"),
            CLOSING,
        ),
    )
}
