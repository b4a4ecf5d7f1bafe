"""The case a case system sends: the child, the household, flags and the contact history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    WithJsonSchema,
    model_validator,
)

from . import vocabulary as vocab

UK = ZoneInfo("Europe/London")
# Deadlines reach a year or so past an event; the bank-holiday calendar covers these years.
FIRST_YEAR, LAST_YEAR = 1900, 2199


def as_uk_instant(value: datetime) -> datetime:
    """Read a naive time as UK local time; keep an aware one as the instant it names.

    A naive time in the hour the clocks skip does not exist and is rejected; a naive
    time in the hour that repeats is read as its first occurrence (British Summer Time).
    """
    # This runs for every event: each attribute is read once, and the common cases first.
    year = value.year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"`{value.isoformat()}` is outside the supported years {FIRST_YEAR}-{LAST_YEAR}"
        )
    if value.tzinfo is None:
        wall = value
    elif value.utcoffset() is not None:
        return value
    else:  # a tzinfo that gives no offset, which Python also treats as naive
        wall = value.replace(tzinfo=None)
    for start, end in _skipped_hours(year):
        if start <= wall < end:
            raise ValueError(
                f"`{value.isoformat()}` does not exist in UK local time (the clocks go "
                "forward that hour); give the time with its UTC offset"
            )
    return datetime.combine(wall, wall.time(), UK)  # several times cheaper than `replace`


@cache
def _skipped_hours(year: int) -> tuple[tuple[datetime, datetime], ...]:
    """The naive UK local times of `year` that do not exist: [start, end) for each gap.

    Read from the time zone database, not from a rule: a day whose offset at noon differs
    from the day before's holds a clock change, and a change forward leaves a gap. At
    fold=0 and fold=1 the offsets differ only around a change: the earlier reading has the
    smaller offset inside a skipped hour, the larger one inside a repeated hour.
    """
    gaps: list[tuple[datetime, datetime]] = []
    day = date(year, 1, 1)
    previous = datetime.combine(day, time(12), UK).utcoffset()
    while day.year == year:
        day += timedelta(days=1)
        offset = datetime.combine(day, time(12), UK).utcoffset()
        if offset != previous:
            for minute in range(-24 * 60, 24 * 60, 15):  # zones change on quarter hours
                local = datetime.combine(day, time(12)) + timedelta(minutes=minute)
                first = local.replace(tzinfo=UK).utcoffset()
                second = local.replace(tzinfo=UK, fold=1).utcoffset()
                if first is not None and second is not None and first < second:
                    if gaps and gaps[-1][1] == local:
                        gaps[-1] = (gaps[-1][0], local + timedelta(minutes=15))
                    else:
                        gaps.append((local, local + timedelta(minutes=15)))
        previous = offset
    return tuple(gaps)


# ISO 8601 date and time; without an offset it is UK local time, which `format: date-time`
# (RFC 3339, offset required) would refuse: so the schema gives a pattern instead.
UK_DATE_TIME_SCHEMA = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$",
    "description": "ISO 8601 date and time; without a UTC offset it is UK local time "
    "(Europe/London).",
    "examples": ["2026-11-23T10:00:00", "2026-11-23T10:00:00+00:00"],
}
UkDateTime = Annotated[
    datetime, AfterValidator(as_uk_instant), WithJsonSchema(UK_DATE_TIME_SCHEMA, mode="validation")
]

_DOCUMENT = ConfigDict(frozen=True, extra="forbid")


class Child(BaseModel):
    """What the case system knows about the child."""

    model_config = _DOCUMENT

    date_of_birth: date | None = Field(None, description="Null when unknown or unborn.")
    unborn: StrictBool = Field(False, description="The case concerns a pregnancy.")
    disability: StrictBool = False
    plan: vocab.Plan = vocab.Plan.NONE
    known_to_childrens_services: StrictBool = False
    previous_concerns: StrictBool = False
    cp_plan_in_last_year: StrictBool = False
    home_educated: StrictBool = False
    urgent_health_need: StrictBool = False


class Household(BaseModel):
    """What the case system knows about the child's home."""

    model_config = _DOCUMENT

    local_authority: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] | None = Field(
        None, description="Lower-case snake case, as the packs key their contacts."
    )
    tenure: vocab.Tenure = vocab.Tenure.UNKNOWN
    landlord: StrictStr | None = Field(None, description="Free text; packs match it ignoring case.")
    known_violence: StrictBool = False
    communication_needs: StrictBool = False


class _Event(BaseModel):
    model_config = _DOCUMENT

    at: UkDateTime = Field(description="ISO 8601; a time without an offset is UK local time.")


class HomeVisit(_Event):
    """A visit to the home; what it achieved, where recorded (contract 1.2)."""

    type: Literal["home_visit"]
    outcome: vocab.HomeVisitOutcome
    announced: StrictBool = True
    seen_alone: StrictBool | None = Field(None, description="The child was seen alone.")
    bedroom_seen: StrictBool | None = Field(None, description="The child's bedroom was seen.")
    seen_awake: StrictBool | None = Field(None, description="The child (a baby) was seen awake.")
    interpreter: StrictBool | None = Field(None, description="An independent interpreter was used.")


class Appointment(_Event):
    """An appointment outside the home: clinic, school, office."""

    type: Literal["appointment"]
    outcome: vocab.AppointmentOutcome
    setting: StrictStr | None = None


class Call(_Event):
    """A telephone call to the family."""

    type: Literal["call"]
    outcome: vocab.CallOutcome
    out_of_hours: StrictBool | None = Field(
        None, description="Derived when absent: outside 09:00-17:00 on a working day."
    )


class Message(_Event):
    """A written communication sent or left by the practitioner."""

    type: Literal["message"]
    channel: vocab.Channel


class ActionDone(_Event):
    """The practitioner records that a required action was done."""

    type: Literal["action"]
    action: StrictStr = Field(description="A shared action id or one of the pack's own ids.")


class SeenByOtherAgency(_Event):
    """Another professional or agency confirms they have seen the child."""

    type: Literal["seen_by_other_agency"]
    agency: StrictStr


class AddressChange(_Event):
    """The family moved."""

    type: Literal["address_change"]


class Concern(_Event):
    """A safeguarding concern was identified."""

    type: Literal["concern"]
    level: vocab.ConcernLevel


class ServiceRefused(_Event):
    """The parent or carer refuses the service."""

    type: Literal["service_refused"]
    reason: StrictStr | None = None


class SupportRequest(_Event):
    """A new contact or request for support to the service (a re-referral)."""

    type: Literal["support_request"]


class WorkerAbsence(_Event):
    """The allocated worker is absent from `at`."""

    type: Literal["worker_absence"]
    until: date | None = None

    @model_validator(mode="after")
    def _until_not_before_start(self) -> WorkerAbsence:
        if self.until is not None and self.until < self.at.astimezone(UK).date():
            raise ValueError(
                f"`until` ({self.until.isoformat()}) is before the absence starts "
                f"({self.at.astimezone(UK).date().isoformat()})"
            )
        return self


class Referral(_Event):
    """The case is referred, or an enquiry or assessment starts; opens a new episode."""

    type: Literal["referral"]
    kind: vocab.ReferralKind
    source: StrictStr | None = None


class PlanChange(_Event):
    """The child's plan changes at `at`; `child.plan` stays the plan at `as_of`."""

    type: Literal["plan_change"]
    plan: vocab.Plan


class Review(_Event):
    """A review meeting or conference takes place, or is booked (contract 1.2)."""

    type: Literal["review"]
    kind: vocab.ReviewKind
    initial: StrictBool = Field(
        False, description="An initial child protection conference rather than a review."
    )
    booked: StrictBool = Field(
        False,
        description=(
            "Booked, not yet held: `at` is when it is planned (it may be after `as_of`); it "
            "completes nothing, ends nothing and opens nothing."
        ),
    )


class TimescaleValue(BaseModel):
    """A timescale a case sets: exactly one unit, or the word `immediately` given instead."""

    model_config = _DOCUMENT

    hours: Annotated[float, Field(gt=0, le=24 * 366)] | None = None
    working_days: Annotated[StrictInt, Field(ge=1, le=366)] | None = None
    calendar_days: Annotated[StrictInt, Field(ge=1, le=3660)] | None = None
    weeks: Annotated[StrictInt, Field(ge=1, le=520)] | None = None
    months: Annotated[StrictInt, Field(ge=1, le=120)] | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> TimescaleValue:
        given = [unit for unit in _UNITS if getattr(self, unit) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one unit: `hours`, `working_days`, `calendar_days`, `weeks` or "
                f"`months` (got {len(given)})"
            )
        return self

    @property
    def unit(self) -> tuple[str, float]:
        """The timescale as (kind, amount), as the engine computes a deadline from it."""
        for unit in _UNITS:
            amount = getattr(self, unit)
            if amount is not None:
                return unit, float(amount)
        raise AssertionError("validated to hold one unit")


_UNITS = ("working_days", "hours", "calendar_days", "weeks", "months")
_TIMESCALE_HELP = (
    "a timescale is `immediately` or one unit: `{hours: N}`, `{working_days: N}`, "
    "`{calendar_days: N}`, `{weeks: N}` or `{months: N}`"
)


def _timescale_form(value: object) -> str | None:
    """Which member of `within` the value is written as, so an error names the mistake."""
    if isinstance(value, str):
        return "word"
    if isinstance(value, dict | TimescaleValue):
        return "units"
    return None


_Within = Annotated[
    Annotated[Literal["immediately"], Tag("word")] | Annotated[TimescaleValue, Tag("units")],
    Discriminator(_timescale_form, custom_error_type="timescale",
                  custom_error_message=_TIMESCALE_HELP),
]  # fmt: skip


class TimescaleSet(_Event):
    """A manager, the plan or supervision sets this child's timescale for an action or duty."""

    type: Literal["timescale"]
    for_: StrictStr = Field(
        alias="for", description="The action id whose timescale (`within`) or duty's (`every`)."
    )
    within: _Within | None = Field(
        None,
        description=(
            "The deadline for the action, from its trigger: `immediately` or one unit, such as "
            "`{working_days: 5}`."
        ),
    )
    every: TimescaleValue | None = Field(
        None, description="The longest gap for the recurring duty, from `at` on."
    )

    @model_validator(mode="after")
    def _within_or_every(self) -> TimescaleSet:
        if (self.within is None) == (self.every is None):
            raise ValueError("give one of `within` (for an action) or `every` (for a duty)")
        return self

    @property
    def timescale(self) -> tuple[str, float]:
        """(kind, amount) of whichever was given: `immediately` is ("immediately", 0)."""
        value = self.within if self.within is not None else self.every
        if value == "immediately" or value is None:
            return "immediately", 0.0
        return value.unit


Event = Annotated[
    HomeVisit
    | Appointment
    | Call
    | Message
    | ActionDone
    | SeenByOtherAgency
    | AddressChange
    | Concern
    | ServiceRefused
    | SupportRequest
    | WorkerAbsence
    | Referral
    | PlanChange
    | Review
    | TimescaleSet,
    Field(discriminator="type"),
]


EVENT_MODELS: tuple[type[BaseModel], ...] = get_args(get_args(Event)[0])


class Case(BaseModel):
    """A child's case and contact history, as the contract defines it."""

    model_config = _DOCUMENT

    case_id: Annotated[StrictStr, Field(min_length=1)]
    service: vocab.Service = vocab.Service.UNIVERSAL
    child: Child = Field(default_factory=Child)
    household: Household = Field(default_factory=Household)
    flags: tuple[StrictStr, ...] = Field((), description="Facts declared by the pack.")
    events: tuple[Event, ...] = ()


def age_in_years(date_of_birth: date, on: date) -> int:
    """Whole years between a date of birth and a day; negative before birth."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years
