"""The pack document as policy leads write it: frozen pydantic models, unknown keys forbidden."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

from ..model.vocabulary import ActionCategory, RiskTier

_DOCUMENT = ConfigDict(frozen=True, extra="forbid")

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$",
        description="Lower-case snake case; a pack's own ids may carry a `prefix.`.",
    ),
]

Condition = Annotated[
    dict[str, Any],
    Field(
        description=(
            "A mapping of fact to test, combined with `all`, `any` and `not`. A bare value "
            "tests equality; a mapping uses operators such as `in`, `at_least`, `within`. "
            "See docs/reference.md for the facts and operators."
        )
    ),
]


def _issued_text(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


class Section(BaseModel):
    """One section of the source document."""

    model_config = _DOCUMENT

    id: Annotated[str, Field(min_length=1, description="The section's number or short name.")]
    title: Annotated[str, Field(min_length=1, description="A short paraphrase of the heading.")]
    not_actionable: str | None = Field(
        None, description="Why no rule encodes this section (background, definitions, records)."
    )


class Source(BaseModel):
    """The guidance document the pack encodes."""

    model_config = _DOCUMENT

    title: str = Field(description="The document's title.")
    issued: Annotated[
        Annotated[str, Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] | None,
        BeforeValidator(_issued_text),
        Field(description="Issue date as YYYY, YYYY-MM or YYYY-MM-DD; null when undated."),
    ]
    version: str | None = Field(None, description="The document's own version label.")
    sections: tuple[Section, ...] = Field(min_length=1, description="Every section, in order.")


class WorkingHours(BaseModel):
    """The working day used to decide whether a call was out of hours."""

    model_config = _DOCUMENT

    start: time = Field(time(9), description="Start of the working day, UK local time.")
    end: time = Field(time(17), description="End of the working day, UK local time.")


class Scope(BaseModel):
    """Who the guidance covers, where it says so explicitly."""

    model_config = _DOCUMENT

    unborn: bool = Field(
        False, description="The guidance explicitly covers pregnant women (unborn children)."
    )


class CalendarSpec(BaseModel):
    """The working-day calendar, from the `holidays` package."""

    model_config = _DOCUMENT

    country: str = Field(description="`holidays` country code, for example `GB`.")
    subdivision: str | None = Field(None, description="`holidays` subdivision, for example `ENG`.")
    working_hours: WorkingHours = Field(
        description="Working hours, to tell whether a call was out of hours.",
        default_factory=WorkingHours,
    )


class Contact(BaseModel):
    """Who to call, as the guidance lists them."""

    model_config = _DOCUMENT

    name: str = Field(description="The team or service, as the guidance names it.", min_length=1)
    phone: str = Field(min_length=1, description="Carried exactly as the guidance prints it.")


class FailedContactKind(BaseModel):
    """A local name for a kind of failed contact and the outcomes it covers."""

    model_config = _DOCUMENT

    name: str = Field(description="The guidance's own term, for example `no access visit`.")
    outcomes: tuple[str, ...] = Field(
        min_length=1,
        description="`type.outcome` pairs, for example `home_visit.no_response`.",
    )
    citation: str | None = Field(None, description="The section that defines this kind.")


class RiskRule(BaseModel):
    """One risk-tier rule; the first that matches sets the tier."""

    model_config = _DOCUMENT

    tier: RiskTier = Field(description="`low`, `medium` or `high`.")
    when: Condition
    reason: str = Field(min_length=1, description="Plain-English reason shown to the practitioner.")
    citation: str | None = Field(None, description="The section the rule encodes.")


class RiskDefault(BaseModel):
    """The tier when no risk rule matches."""

    model_config = _DOCUMENT

    tier: RiskTier = Field(description="`low`, `medium` or `high`.")
    reason: str = Field(
        description="Plain-English reason shown when no rule matches.", min_length=1
    )
    citation: str | None = Field(None, description="The section the default comes from.")


class RiskSpec(BaseModel):
    """Ordered risk-tier rules with a default."""

    model_config = _DOCUMENT

    rules: tuple[RiskRule, ...] = Field(
        (), description="Ordered rules; the first that matches sets the tier."
    )
    otherwise: RiskDefault = Field(description="The tier and reason when no rule matches.")


class WorkingDays(BaseModel):
    """Due at 23:59:59 UK local on the Nth working day after the trigger's day."""

    model_config = _DOCUMENT

    working_days: int = Field(ge=1, le=366)


class Hours(BaseModel):
    """Due N elapsed hours after the trigger."""

    model_config = _DOCUMENT

    hours: float = Field(gt=0, le=24 * 366)


class CalendarDays(BaseModel):
    """Due at 23:59:59 UK local on the Nth calendar day after the trigger's day."""

    model_config = _DOCUMENT

    calendar_days: int = Field(ge=1, le=3660)


class Weeks(BaseModel):
    """Due at 23:59:59 UK local on the same weekday N weeks after the trigger's day."""

    model_config = _DOCUMENT

    weeks: int = Field(ge=1, le=520)


class Months(BaseModel):
    """Due at 23:59:59 UK local on the same day N calendar months on (the month's last day if
    it is shorter)."""

    model_config = _DOCUMENT

    months: int = Field(ge=1, le=120)


UNITS = ("working_days", "hours", "calendar_days", "weeks", "months")


def timescale_kind(value: Any) -> str | None:
    """Which kind of timescale the YAML value is written as: a word, or a mapping's one unit.

    None when it is neither, so the error names the mistake instead of every union member's.
    """
    if isinstance(value, str):
        return "word"
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        return key if key in UNITS else None
    if isinstance(value, BaseModel):  # already validated (model_validate on a built model)
        return next((unit for unit in UNITS if hasattr(value, unit)), None)
    return None


TIMESCALE_HELP = (
    "a timescale is `immediately`, `none` or one unit: `{working_days: N}`, `{hours: N}`, "
    "`{calendar_days: N}`, `{weeks: N}` or `{months: N}`, N at least 1"
)

_UNIT_MEMBERS = (
    Annotated[WorkingDays, Tag("working_days")]
    | Annotated[Hours, Tag("hours")]
    | Annotated[CalendarDays, Tag("calendar_days")]
    | Annotated[Weeks, Tag("weeks")]
    | Annotated[Months, Tag("months")]
)

Deadline = Annotated[
    Annotated[Literal["immediately", "none"], Tag("word")] | _UNIT_MEMBERS,
    Discriminator(timescale_kind, custom_error_type="timescale",
                  custom_error_message=TIMESCALE_HELP),
    Field(
        description=(
            "`immediately`, `none`, `{working_days: N}`, `{hours: N}`, `{calendar_days: N}`, "
            "`{weeks: N}` or `{months: N}`."
        )
    ),
]  # fmt: skip

Interval = Annotated[
    _UNIT_MEMBERS,
    Discriminator(timescale_kind, custom_error_type="timescale",
                  custom_error_message=TIMESCALE_HELP.replace("`immediately`, `none` or ", "")),
    Field(
        description=(
            "`{working_days: N}`, `{hours: N}`, `{calendar_days: N}`, `{weeks: N}` or "
            "`{months: N}`."
        )
    ),
]  # fmt: skip


class Window(BaseModel):
    """A look-back window ending at the moment evaluated: days, or calendar months or years."""

    model_config = _DOCUMENT

    days: int | None = Field(None, ge=1, le=36600, description="Elapsed days (24-hour periods).")
    months: int | None = Field(None, ge=1, le=1200, description="Calendar months.")
    years: int | None = Field(None, ge=1, le=100, description="Calendar years (leap-year correct).")


class CaseTimescale(BaseModel):
    """Lets a case set a timescale for an action or duty, within the guidance's bound."""

    model_config = _DOCUMENT

    longest: Deadline | None = Field(
        None,
        description=(
            "The longest timescale the guidance allows (its minimum standard); a longer one "
            "set for a child is not applied. Absent: any timescale is applied."
        ),
    )


class ActionSpec(BaseModel):
    """How the pack words and times one action."""

    model_config = _DOCUMENT

    title: str = Field(min_length=1, description="Local title, a short paraphrase.")
    owner: str = Field(min_length=1, description="Who does it, for example `practitioner`.")
    category: ActionCategory | None = Field(
        None,
        description=(
            "What kind of work it is (contract 1.1). Fixed for shared ids (may be omitted); "
            "required for the pack's own ids."
        ),
    )
    deadline: Deadline = "none"
    citation: str | None = Field(None, description="The section this action comes from.")
    contacts: Identifier | None = Field(None, description="A contact group from `contacts`.")
    completed_by: Condition | None = Field(
        None,
        description=(
            "Events that complete the action when they follow its trigger, besides an `action` "
            "record with its id: for example a home visit where the child is seen, an answered "
            "call, a letter (and not a card)."
        ),
    )
    ended_when_seen: bool | None = Field(
        None,
        description=(
            "Whether the child seen (a `child_seen` or `seen_not_alone` visit, an `attended` "
            "appointment) after the trigger ends the action (contract 1.2). Absent: by "
            "category, `true` for visit, appointment, call and letter (steps that try to gain "
            "access), `false` for the rest (records, manager and multi-agency steps, "
            "referrals), which stay until done."
        ),
    )
    per_event: bool = Field(
        False,
        description=(
            'One entry per triggering event, each with its own status ("record each visit"); '
            "an `action` record completes the earliest instance before it not yet completed."
        ),
    )
    case_timescale: CaseTimescale | None = Field(
        None,
        description=(
            "A case may set this action's timescale with a `timescale` event (contract 1.2), "
            "no longer than `longest`."
        ),
    )


class Requirement(BaseModel):
    """An action a rule requires, with optional rule-specific timing or owner."""

    model_config = _DOCUMENT

    action: Identifier
    deadline: Deadline | None = Field(
        None, description="Overrides the action's deadline for this rule."
    )
    owner: str | None = Field(None, description="Overrides the action's owner for this rule.")


class Rule(BaseModel):
    """When a condition holds at a trigger, these actions are required."""

    model_config = _DOCUMENT

    id: Identifier
    citation: str = Field(min_length=1, description="Pack id and section, for example `x 6a`.")
    on: tuple[Identifier, ...] = Field(
        min_length=1, description="Triggers: `failed_contact` or event types."
    )
    when: Condition | None = Field(
        None, description="The condition (see the facts and operators); absent means always."
    )
    require: tuple[Identifier | Requirement, ...] = Field(
        description="Action ids, or `{action, deadline, owner}` to override them for this rule.",
        min_length=1,
    )
    note: str | None = Field(None, description="Shown in the trace.")
    once: bool = Field(
        False,
        description="Fire at the first matching trigger only (a one-off step), never again.",
    )
    duty: Identifier | None = Field(
        None,
        description=(
            'With `on: [duty_overdue]`: the duty whose falling overdue fires the rule ("if the '
            'child has not been seen for 4 weeks, the manager reviews"); the required '
            "actions' clocks start at the instant it fell overdue (contract 1.2)."
        ),
    )


class CountPattern(BaseModel):
    """At least N events matching a selector, within a window ending at `as_of`."""

    model_config = _DOCUMENT

    of: Condition
    at_least: int = Field(description="How many matching events make the pattern.", ge=1)
    within_days: int | None = Field(None, ge=1, description="Window length; null: all history.")
    within: Window | None = Field(
        None, description="A window in days, calendar months or years (instead of `within_days`)."
    )
    in_run: bool = Field(False, description="Only events in the current run of failed contacts.")


class SequencePattern(BaseModel):
    """An event matching `first` whose next `next` event matches `then`, within a window."""

    model_config = _DOCUMENT

    first: Condition
    next: Condition = Field(
        default_factory=lambda: {"event": {"in": ["home_visit", "appointment"]}},
        description="Which later event is 'the next one'; default: the next visit or appointment.",
    )
    then: Condition
    within_days: int | None = Field(
        None, description="Longest gap, in days, between the two events; null: any.", ge=1
    )


class PatternSpec(BaseModel):
    """A pattern to watch for."""

    model_config = _DOCUMENT

    id: Identifier
    title: str = Field(description="What the pattern is called in the assessment.", min_length=1)
    citation: str | None = Field(None, description="The section that describes the pattern.")
    count: CountPattern | None = Field(
        None, description="At least N matching events (give this or `sequence`)."
    )
    sequence: SequencePattern | None = Field(
        None, description="An event followed by a matching next event (or `count`)."
    )


class Duty(BaseModel):
    """A recurring duty: while a condition holds, an action is due at least every interval."""

    model_config = _DOCUMENT

    id: Identifier
    citation: str = Field(min_length=1, description="Pack id and section.")
    action: Identifier = Field(description="The action that recurs, for example `further_visit`.")
    every: Interval = Field(description="The longest allowed gap between qualifying events.")
    when: Condition = Field(
        description="While this holds at `as_of` the duty applies (for example a plan)."
    )
    starts: Condition | None = Field(
        None,
        description=(
            "Which event starts the duty (the latest match before `as_of`), for example the "
            "plan change that started the plan; absent: the start of the current episode."
        ),
    )
    by: Condition = Field(
        description="Which events discharge the duty, for example a visit where the child is seen."
    )
    note: str | None = Field(None, description="Shown in the trace.")
    case_timescale: CaseTimescale | None = Field(
        None,
        description=(
            "A case may set this duty's frequency with a `timescale` event's `every` (contract "
            "1.2), no longer than `longest`."
        ),
    )


class ClosureCondition(BaseModel):
    """One condition that must hold before the case may close."""

    model_config = _DOCUMENT

    id: Identifier
    title: str = Field(description="What must be true, shown when it is not.", min_length=1)
    citation: str | None = Field(None, description="The section the condition encodes.")
    when: Condition
    action: Identifier | None = Field(
        None,
        description=(
            "The action whose record meets the condition, so a case system can make it a task "
            "(contract 1.2); absent: the one action a `{actions_done: {contains: X}}` "
            "condition names, else none."
        ),
    )


class ClosureSpec(BaseModel):
    """When a case may close."""

    model_config = _DOCUMENT

    citation: str | None = Field(None, description="The section on closing cases.")
    requires: tuple[ClosureCondition, ...] = Field(
        description="Every condition that must hold before the case may close.", min_length=1
    )


class PackDocument(BaseModel):
    """A policy pack: one area's guidance on failed contacts as data."""

    model_config = _DOCUMENT

    id: Identifier
    title: str = Field(description="A short title for the pack.", min_length=1)
    area: str = Field(description="The area the guidance covers.", min_length=1)
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$", description="Semantic version.")]
    source: Source = Field(description="The source document and its sections.")
    scope: Scope = Field(description="Who the guidance explicitly covers.", default_factory=Scope)
    calendar: CalendarSpec = Field(description="The working-day calendar.")
    flags: dict[Identifier, str] = Field(
        default_factory=dict, description="Case flags this pack reads, with what each means."
    )
    contacts: dict[Identifier, dict[Identifier, tuple[Contact, ...]]] = Field(
        default_factory=dict,
        description="Contact groups, each keyed by local authority, with an optional `default`.",
    )
    failed_contacts: dict[Identifier, FailedContactKind] = Field(
        description="Kinds of failed contact by id, each with its local name and outcomes."
    )
    risk: RiskSpec = Field(description="Risk-tier rules, first match wins.")
    actions: dict[Identifier, ActionSpec] = Field(
        description="Action definitions by id: shared ids or `<pack id>.<name>`."
    )
    rules: tuple[Rule, ...] = Field(
        (), description="When a condition holds at a trigger, which actions are required."
    )
    duties: tuple[Duty, ...] = Field(
        (), description="Recurring duties, such as visits at least every N weeks on a plan."
    )
    patterns: tuple[PatternSpec, ...] = Field(
        (), description="Patterns to watch: closure, flight, disguised compliance, ..."
    )
    closure: ClosureSpec | None = Field(
        None, description="Null when the guidance says nothing about closing a case."
    )
