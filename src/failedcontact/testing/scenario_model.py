"""The scenario file format: typed, strict models a policy lead's YAML is validated against.

`schemas/scenario.schema.json` and docs/scenarios.md are generated from these models.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..model.vocabulary import ActionCategory, ActionStatus, RiskTier


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Invariant(StrEnum):
    """The consistency invariants `failedcontact verify` checks (docs/verify.md)."""

    DETERMINISTIC = "deterministic"
    ORDER_INDEPENDENT = "order-independent"
    FAILED_CONTACT_MONOTONE = "failed-contact-monotone"
    SEEN_RESETS = "seen-resets"
    DEADLINES_SOUND = "deadlines-sound"
    AS_OF_MONOTONE = "as-of-monotone"
    IRRELEVANT_EVENT = "irrelevant-event"
    SCHEMA_ROUND_TRIP = "schema-round-trip"
    DUTY_FRESH_AFTER_VISIT = "duty-fresh-after-visit"


class ContactExpectation(_Strict):
    """An escalation contact exactly as the assessment lists it."""

    name: str
    phone: str


class ActionExpectation(_Strict):
    """What a required action must look like; only the fields given are compared."""

    due: str | None = Field(
        None, description="The exact `due` time as the assessment prints it; null: no timescale."
    )
    status: ActionStatus | None = Field(None, description="`outstanding`, `overdue` or `done`.")
    trigger: int | None = Field(
        None, description="The input index of the triggering event; null: a rule on `as_of`."
    )
    category: ActionCategory | None = None
    recurring: bool | None = None
    owner: str | None = None
    citation: str | None = None
    contacts: list[ContactExpectation] | None = Field(
        None, description="The escalation contacts, in order."
    )


class ClosureExpectation(_Strict):
    """Whether the case may close and, optionally, exactly which conditions are unmet."""

    allowed: bool
    unmet: list[str] | None = Field(None, description="The unmet condition ids, in order.")


class CaseErrorExpectation(_Strict):
    """The case must be rejected, with a problem at `path` whose message contains the text."""

    path: str | None = Field(None, description="A field path such as `events[0].outcome`.")
    message_contains: str = ""


class PackErrorExpectation(_Strict):
    """The pack must fail to load with a diagnostic that has every field given."""

    code: str = Field(description="A diagnostic code such as `pack.unknown-action`.")
    line: int | None = Field(None, ge=1)
    column: int | None = Field(None, ge=1)
    message_contains: str | None = None


# Expectation fields about an assessment; `error` and `pack_error` exclude them.
_ABOUT_ASSESSMENT = (
    "risk_tier",
    "risk_reason_contains",
    "failed_contacts",
    "last_seen",
    "actions",
    "only_actions",
    "no_actions",
    "patterns",
    "no_patterns",
    "closure",
    "holds",
)


class Expectation(_Strict):
    """What the guidance says the outcome must be; only what is written here is checked."""

    risk_tier: RiskTier | None = None
    risk_reason_contains: str | None = Field(
        None, description="Some risk reason contains this text."
    )
    failed_contacts: int | None = Field(None, ge=0)
    last_seen: str | None = Field(None, description="The exact `last_seen`; null: never seen.")
    actions: dict[str, ActionExpectation | None] | None = Field(
        None, description="Actions that must be required (null: any details)."
    )
    only_actions: bool | None = Field(
        None, description="True: no action other than those under `actions` is required."
    )
    no_actions: list[str] | None = Field(None, description="Actions that must not be required.")
    patterns: dict[str, list[int] | None] | None = Field(
        None, description="Patterns that must be found, with their events (null: any events)."
    )
    no_patterns: list[str] | None = Field(None, description="Patterns that must not be found.")
    closure: ClosureExpectation | None = Field(
        None, description="The closure verdict; null: the pack has no closure section."
    )
    holds: list[Invariant] | None = Field(
        None,
        description="Consistency invariants that must hold for this case (as `verify` checks).",
    )
    error: CaseErrorExpectation | None = Field(None, description="The case must be rejected.")
    pack_error: PackErrorExpectation | None = Field(None, description="The pack must fail to load.")

    @model_validator(mode="after")
    def _asserts_something(self) -> Expectation:
        given = self.model_fields_set
        if not given:
            raise ValueError("a scenario must expect something: `expect` is empty")
        about = given & set(_ABOUT_ASSESSMENT)
        for rejection in ("error", "pack_error"):
            if rejection in given and about:
                raise ValueError(
                    f"`{rejection}` expects no assessment, so it cannot be combined with "
                    + ", ".join(f"`{k}`" for k in sorted(about))
                )
        if "error" in given and "pack_error" in given:
            raise ValueError("expect `error` (a bad case) or `pack_error` (a bad pack), not both")
        for name in ("actions", "patterns", "closure", "error", "pack_error"):
            if name in given and getattr(self, name) is None and name != "closure":
                raise ValueError(f"`{name}` needs a value")
        if given == {"only_actions"} and not self.only_actions:
            raise ValueError("`only_actions: false` alone checks nothing")
        return self

    def given(self, name: str) -> bool:
        """True when the scenario wrote this field (a written null is an expectation too)."""
        return name in self.model_fields_set


class Scenario(_Strict):
    """One scenario: a case, the time it is assessed at and what the guidance expects."""

    name: str = Field(min_length=1, description="What the scenario shows, in a few words.")
    section: str = Field(
        min_length=1, description="The pack id and guidance section it encodes, e.g. `<id> 6a`."
    )
    pack: str | None = Field(
        None, description="A pack id or a path relative to this file (default: the file's)."
    )
    as_of: datetime | None = Field(None, description="When the case is assessed (ISO 8601).")
    case: dict[str, Any] | None = Field(None, description="The case input, as the contract says.")
    expect: Expectation

    @model_validator(mode="after")
    def _has_a_case(self) -> Scenario:
        if self.expect.pack_error is None and (self.case is None or self.as_of is None):
            raise ValueError("a scenario that assesses a case needs `case` and `as_of`")
        return self


class ScenarioFile(_Strict):
    """A scenario file: an optional default pack and a list of scenarios."""

    pack: str | None = Field(
        None,
        description="The pack the scenarios test (default: the folder's name); a pack id "
        "means `policies/<id>.yaml` in the working tree when there is one.",
    )
    scenarios: list[Scenario] = Field(min_length=1)
