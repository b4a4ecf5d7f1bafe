"""The assessment the engine hands back, exactly as the contract's output section defines it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer

from .vocabulary import ActionStatus, RiskTier


def _iso(value: datetime) -> str:
    # pydantic writes a zero offset as `Z`; the contract shows `+00:00` (UK local offset).
    return value.isoformat()


Instant = Annotated[AwareDatetime, PlainSerializer(_iso, return_type=str, when_used="json")]

_OUTPUT = ConfigDict(frozen=True, extra="forbid")


class PackRef(BaseModel):
    """Which pack, at which version and content digest, produced the assessment."""

    model_config = _OUTPUT

    id: str
    version: str
    digest: str = Field(description="`sha256:` of the pack file's bytes.")


class Trigger(BaseModel):
    """The event that required an action: its index in the input `events` and its time."""

    model_config = _OUTPUT

    event: int = Field(description="Index into the case's `events` list as sent.")
    at: Instant


class ContactOut(BaseModel):
    """A contact for an escalation."""

    model_config = _OUTPUT

    name: str
    phone: str


class RequiredAction(BaseModel):
    """One required action, from its latest trigger."""

    model_config = _OUTPUT

    id: str
    title: str
    citation: str
    owner: str
    due: Instant | None = Field(description="Null where the guidance sets no timescale.")
    status: ActionStatus
    trigger: Trigger
    contacts: list[ContactOut]


class PatternFound(BaseModel):
    """A pattern to watch, with the events that show it."""

    model_config = _OUTPUT

    id: str
    title: str
    events: list[int]


class UnmetCondition(BaseModel):
    """A closure condition that does not hold yet."""

    model_config = _OUTPUT

    id: str
    title: str


class Closure(BaseModel):
    """Whether the case may close now, and what still stands in the way."""

    model_config = _OUTPUT

    allowed: bool
    unmet: list[UnmetCondition]


class TraceEntry(BaseModel):
    """One step of the reasoning, in the order the engine took it."""

    model_config = _OUTPUT

    step: Literal["risk", "rule", "pattern", "closure", "note"]
    id: str = Field(description="The rule, risk rule, pattern or closure condition.")
    event: int | None = Field(None, description="The triggering event's input index.")
    why: str = Field(description="Plain English: what held and what it means.")
    actions: list[str] = Field(default_factory=list)
    citation: str | None = None


class Assessment(BaseModel):
    """The answer for one case under one pack at one instant."""

    model_config = _OUTPUT

    contract: Literal["1"] = "1"
    case_id: str
    as_of: Instant
    pack: PackRef
    risk_tier: RiskTier
    risk_reasons: list[str] = Field(min_length=1)
    failed_contacts: int = Field(ge=0)
    last_seen: Instant | None
    actions: list[RequiredAction]
    patterns: list[PatternFound]
    closure: Closure | None
    trace: list[TraceEntry]
