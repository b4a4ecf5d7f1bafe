"""The assessment the engine hands back, exactly as the contract's output section defines it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from .vocabulary import ActionCategory, ActionStatus, RiskTier


def _iso(value: datetime) -> str:
    # pydantic writes a zero offset as `Z`; the contract shows `+00:00` (UK local offset).
    return value.isoformat()


Instant = Annotated[
    AwareDatetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    # the serializer's `str` would hide the format: an instant is RFC 3339, offset and all
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]

_OUTPUT = ConfigDict(frozen=True, extra="forbid")
_M = TypeVar("_M", bound=BaseModel)


class PackRef(BaseModel):
    """Which pack, at which version and content digest, produced the assessment."""

    model_config = _OUTPUT

    id: str
    version: str
    digest: str = Field(description="`sha256:` of the pack file's bytes.")


class EngineRef(BaseModel):
    """Which library and bank-holiday data produced the assessment (1.1, for audit and replay)."""

    model_config = _OUTPUT

    library: str = Field(description="The failedcontact version.")
    holidays: str = Field(description="The `holidays` package version: the bank-holiday data.")


class Trigger(BaseModel):
    """The event that required an action: its index in the input `events` and its time."""

    model_config = _OUTPUT

    event: int | None = Field(
        description=(
            "Index into the case's `events` list as sent; null for a duty that runs from a "
            "case fact evaluated at `as_of` rather than from an event."
        )
    )
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
    category: ActionCategory = Field(description="What kind of work the action is (1.1).")
    recurring: bool = Field(
        description="True for a duty that recurs; `due` is then the next time it falls due (1.1)."
    )
    due: Instant | None = Field(description="Null where the guidance sets no timescale.")
    status: ActionStatus
    trigger: Trigger
    contacts: list[ContactOut]
    timescale_set_by: int | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description=(
            "The input index of the `timescale` event that set this action's due (1.2); absent "
            "when the pack's own timescale stands."
        ),
    )


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
    action: str | None = Field(
        description="The action id whose record meets the condition, or null when none does (1.2)."
    )


class Closure(BaseModel):
    """Whether the case may close now, and what still stands in the way."""

    model_config = _OUTPUT

    allowed: bool
    unmet: list[UnmetCondition]


class Episode(BaseModel):
    """The current episode: from the first event, or the latest referral or support request."""

    model_config = _OUTPUT

    started: Instant = Field(
        description="When the episode began; `as_of` when there are no events."
    )
    event: int | None = Field(description="The input index of the event that opened it.")


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

    contract: Literal["1.2"] = "1.2"
    case_id: str
    as_of: Instant
    pack: PackRef
    engine: EngineRef
    risk_tier: RiskTier
    risk_reasons: list[str] = Field(min_length=1)
    failed_contacts: int = Field(ge=0)
    last_seen: Instant | None
    actions: list[RequiredAction]
    patterns: list[PatternFound]
    closure: Closure | None
    episode: Episode
    next_change: Instant | None = Field(
        description=(
            "The earliest instant after `as_of` at which this assessment would differ if no "
            "event were added, or null when nothing would change (1.2)."
        )
    )
    trace: list[TraceEntry]


_new = object.__new__
# BaseModel's own slots, set through their descriptors: `object.__setattr__` would look each
# name up along the class's MRO first, for every model of every assessment.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_TIERS = {tier.value: tier for tier in RiskTier}


def _trusted(cls: type[_M], fields: dict[str, Any], unset: frozenset[str] = frozenset()) -> _M:
    """Build a model from engine output that is correct by construction, without validation.

    This is what `model_construct` does for these models (no aliases, no defaults needed,
    no private attributes), minus its per-field bookkeeping, which costs more than the
    engine itself; `tests/test_engine.py` checks both give identical models.
    """
    model = _new(cls)  # BaseModel has no __new__ of its own: object's, without the lookup
    _set_dict(model, fields)
    _set_fields_set(model, set(fields) - unset if unset else set(fields))
    _set_extra(model, None)
    _set_private(model, None)
    return model


_SET_BY = frozenset({"timescale_set_by"})


def _action(action: dict[str, Any]) -> RequiredAction:
    """A required action; `timescale_set_by` absent from the plain one is unset (and null)."""
    if "timescale_set_by" in action:
        return _trusted(RequiredAction, action)
    action["timescale_set_by"] = None
    return _trusted(RequiredAction, action, _SET_BY)


def from_plain(document: dict[str, Any]) -> Assessment:
    """Build the typed assessment from the engine's plain JSON-ready document.

    Takes the document over: its dicts become the models' fields (no copies are made), so
    the caller must not use it afterwards.
    """
    # The engine already gives status and category as enum members (StrEnums, which JSON
    # writes as their values); the tier is text.
    for action in document["actions"]:
        action["trigger"] = _trusted(Trigger, action["trigger"])
        action["contacts"] = [_trusted(ContactOut, c) for c in action["contacts"]]
    document["actions"] = [_action(action) for action in document["actions"]]
    closure = document["closure"]
    if closure is not None:
        closure["unmet"] = [_trusted(UnmetCondition, u) for u in closure["unmet"]]
        document["closure"] = _trusted(Closure, closure)
    document["pack"] = _trusted(PackRef, document["pack"])
    document["engine"] = _trusted(EngineRef, document["engine"])
    document["risk_tier"] = _TIERS[document["risk_tier"]]
    document["patterns"] = [_trusted(PatternFound, p) for p in document["patterns"]]
    document["episode"] = _trusted(Episode, document["episode"])
    document["trace"] = [_trusted(TraceEntry, t) for t in document["trace"]]
    return _trusted(Assessment, document)
