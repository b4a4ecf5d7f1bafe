"""Describe a condition tree in a practitioner's words: no field names, no codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..pack.conditions import Compiled, tree_of
from ..pack.document import PackDocument
from ..pack.facts import Kind
from ..pack.tree import AllOf, AnyOf, Count, Node, Not, Operator, Scope, Test

# What a fact's value is said about, and how each value reads after it.
_SUBJECTS: dict[str, tuple[str, str]] = {
    "service": ("the case is held by", "the case is not held by"),
    "plan": ("the child is on", "the child is not on"),
    "new_plan": ("the plan changes to", "the plan does not change to"),
    "tenure": ("the family's home is", "the family's home is not"),
    "landlord": ("the landlord is", "the landlord is not"),
    "local_authority": ("the child lives in", "the child does not live in"),
    "event": ("the event is", "the event is not"),
    "outcome": ("the outcome was", "the outcome was not"),
    "failed_contact_kind": ("it was", "it was not"),
    "concern_level": ("the concern is about", "the concern is not about"),
    "channel": ("the message was", "the message was not"),
    "action": ("the record is that", "the record is not that"),
    "referral_kind": ("the referral is", "the referral is not"),
    "review_kind": ("the meeting is", "the meeting is not"),
}
# What a fact is called when only whether it is known matters.
_NOUNS: dict[str, str] = {
    "age_years": "the child's age",
    "landlord": "the landlord",
    "tenure": "the family's tenure",
    "local_authority": "the child's local authority",
    "absence_days": "the length of the absence",
}
_LABELS: dict[str, dict[str, str]] = {
    "service": {
        "universal": "a universal service",
        "early_help": "an early help service",
        "social_care": "children's social care",
        "adult_service": "a service for the parent or carer",
    },
    "plan": {
        "none": "no plan",
        "early_help": "an early help plan",
        "child_in_need": "a child in need plan",
        "child_protection": "a child protection plan",
        "looked_after": "a care plan (looked after)",
    },
    "tenure": {
        "council": "a council home",
        "housing_association": "a housing association home",
        "private_rented": "privately rented",
        "owner_occupier": "owner occupied",
        "unknown": "of unknown tenure",
    },
    "event": {
        "home_visit": "a home visit",
        "appointment": "an appointment",
        "call": "a telephone call",
        "message": "a message or letter",
        "action": "a recorded step",
        "seen_by_other_agency": "another agency seeing the child",
        "address_change": "a move of address",
        "concern": "a concern being raised",
        "service_refused": "the service being refused",
        "support_request": "a request for support",
        "worker_absence": "the worker's absence",
        "referral": "a referral",
        "plan_change": "a change of plan",
        "review": "a review meeting",
    },
    "concern_level": {
        "welfare": "the child's welfare",
        "significant_harm": "significant harm",
        "immediate_danger": "immediate danger",
    },
    "channel": {"letter": "a letter", "text": "a text", "email": "an email", "card": "a card"},
    "outcome": {
        "child_seen": "the child seen",
        "seen_not_alone": "the child seen, but not alone",
        "seen_alone_refused": "consent refused for the child to be seen alone",
        "no_response": "no response at the door",
        "access_refused": "access refused",
        "doorstep": "a conversation on the doorstep, not invited in",
        "child_not_seen": "the child not seen inside the home",
        "prevented_from_seeing_child": "the practitioner prevented from seeing the child",
        "child_alone": "the child found alone or with an unsuitable carer",
        "attended": "the appointment attended",
        "not_brought": "the child not brought",
        "cancelled_by_family": "cancelled by the family",
        "rearranged_by_family": "rearranged by the family",
        "cancelled_by_service": "cancelled by the service",
        "answered": "answered",
        "no_answer": "not answered",
    },
    "referral_kind": {
        "contact": "a first contact",
        "early_help": "for early help",
        "child_and_family_assessment": "a child and family assessment",
        "section_47": "a child protection (section 47) enquiry",
        "strategy_discussion": "a strategy discussion",
    },
    "review_kind": {
        "cin_review": "a child in need review",
        "cp_conference": "a child protection conference",
        "core_group": "a core group meeting",
        "looked_after_review": "a looked after review",
        "professionals_meeting": "a professionals meeting",
    },
}
_LABELS["new_plan"] = _LABELS["plan"]
# A yes/no fact: what is true, and what is true when it is not.
_BOOLEANS: dict[str, tuple[str, str]] = {
    "unborn": ("the case concerns an unborn baby", "the case does not concern an unborn baby"),
    "disability": ("the child has a disability", "the child has no known disability"),
    "known_to_childrens_services": (
        "the child is known to children's services",
        "the child is not known to children's services",
    ),
    "previous_concerns": ("earlier concerns are recorded", "no earlier concerns are recorded"),
    "cp_plan_in_last_year": (
        "the child was on a child protection plan in the last year",
        "the child was not on a child protection plan in the last year",
    ),
    "home_educated": ("the child is home educated", "the child is not home educated"),
    "urgent_health_need": (
        "the child has an urgent health need",
        "the child has no urgent health need",
    ),
    "known_violence": (
        "there is known violence in the family",
        "there is no known violence in the family",
    ),
    "communication_needs": (
        "the family has communication needs",
        "the family has no recorded communication needs",
    ),
    "seen_by_other_agency": (
        "another agency has seen the child since the service last did",
        "no other agency has seen the child since the service last did",
    ),
    "failed_contact": ("it was a failed contact", "it was not a failed contact"),
    "announced": ("the visit was announced", "the visit was unannounced"),
    "out_of_hours": ("the call was out of working hours", "the call was in working hours"),
}
# A number fact: how `at least N` and friends read for it.
_NUMBERS: dict[str, str] = {
    "failed_contacts": "failed contacts in a row",
    "age_years": "years old",
    "absence_days": "days of absence",
    "open_actions": "steps not yet done",
    "overdue_actions": "steps overdue",
}
_RELATION_WORDS = {
    Operator.EQUALS: "exactly",
    Operator.AT_LEAST: "at least",
    Operator.AT_MOST: "at most",
    Operator.MORE_THAN: "more than",
    Operator.LESS_THAN: "fewer than",
}
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_SCOPES = {
    Scope.HISTORY: "",
    Scope.RUN: " since the child was last seen",
    Scope.EPISODE: " in this episode",
    Scope.SINCE_FAILED_CONTACT: " since the latest failed contact",
}


def ordinal(number: int) -> str:
    """`first`, `second`, ... and `9th` beyond the words."""
    return _ORDINALS[number - 1] if 1 <= number <= len(_ORDINALS) else f"{number}th"


def label(fact: str, value: object) -> str:
    """A fact's value in words, as the descriptions write it (`significant harm`)."""
    return _LABELS.get(fact, {}).get(str(value), humanise(value))


def humanise(value: object) -> str:
    """A value as words: `child_in_need` reads `child in need`."""
    return str(value).replace("_", " ")


@dataclass(frozen=True, slots=True)
class Describer:
    """Plain-English descriptions of one pack's conditions.

    `labels` names the pack's own values: flags by what they mean, failed-contact kinds,
    patterns and actions by their titles.
    """

    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def condition(self, condition: Compiled) -> str:
        """A compiled condition in plain words, from its tree ("always" only for `ALWAYS`)."""
        return self.describe(tree_of(condition))

    def describe(self, node: Node | None) -> str:
        """The condition in plain words ("always" when there is none)."""
        if node is None:
            return "always"
        if isinstance(node, AllOf):
            return ", and ".join(self.describe(p) for p in node.parts)
        if isinstance(node, AnyOf):
            return "either " + ", or ".join(self.describe(p) for p in node.parts)
        if isinstance(node, Not):
            return f"it is not the case that {self.describe(node.part)}"
        if isinstance(node, Count):
            return self._count(node)
        return self._test(node)

    def _label(self, fact: str, value: object) -> str:
        own = self.labels.get(fact, {})
        if str(value) in own:
            return own[str(value)]
        return label(fact, value)

    def _count(self, node: Count) -> str:
        bounds = " and ".join(f"{_RELATION_WORDS[op]} {n}" for op, n in node.bounds)
        where = _SCOPES[node.scope]
        if node.since is not None:
            where += f" since the latest time {self.describe(node.since)}"
        if node.months:
            span = node.months // 12 if node.months % 12 == 0 else node.months
            unit = "year" if node.months % 12 == 0 else "month"
            where += f" in the last {span} {unit}{'s' if span != 1 else ''}"
        elif node.days:
            where += f" in the last {node.days} days"
        return f"{bounds} events{where} where {self.describe(node.of)}"

    def _test(self, node: Test) -> str:
        name, op, values = node.fact.name, node.op, node.values
        if op is Operator.IS_KNOWN:
            noun = _NOUNS.get(name, f"the {humanise(name)}")
            return f"{noun} is {'known' if values[0] else 'not known'}"
        if node.fact.kind is Kind.BOOL:
            yes, no = _BOOLEANS.get(name, (humanise(name), f"not {humanise(name)}"))
            return yes if values[0] else no
        if node.fact.kind is Kind.INT:
            return self._number(name, op, values)
        if node.fact.kind is Kind.SET:
            return self._set(name, op, values)
        if name == "plan" and op is Operator.NOT_IN and "none" in values:
            others = [v for v in values if v != "none"]
            if not others:
                return "the child is on a plan"
            return "the child is on a plan other than " + " or ".join(
                self._label(name, v) for v in others
            )
        is_, is_not = _SUBJECTS.get(
            name, (f"the {humanise(name)} is", f"the {humanise(name)} is not")
        )
        words = " or ".join(self._label(name, v) for v in values)
        return f"{is_not if op is Operator.NOT_IN else is_} {words}"

    def _number(self, name: str, op: Operator, values: tuple[object, ...]) -> str:
        if name == "failed_contacts" and op is Operator.EQUALS:
            return f"this is the {ordinal(int(str(values[0])))} failed contact in a row"
        unit = _NUMBERS.get(name, humanise(name))
        if op in (Operator.IN, Operator.NOT_IN):
            numbers = " or ".join(str(v) for v in values)
            return f"{'not ' if op is Operator.NOT_IN else ''}{numbers} {unit}"
        if name == "age_years":
            return f"the child is {_RELATION_WORDS[op]} {values[0]} years old".replace(
                "exactly ", ""
            )
        return f"{_RELATION_WORDS[op]} {values[0]} {unit}"

    def _set(self, name: str, op: Operator, values: tuple[object, ...]) -> str:
        joiner = " or " if op is Operator.CONTAINS_ANY else " and "
        if name == "concern_levels":
            levels = joiner.join(label("concern_level", v) for v in values)
            return f"a concern about {levels} has been raised"
        if name == "patterns":
            found = joiner.join(self._label("patterns", v).lower() for v in values)
            return f"the history shows {found}"
        if name == "actions_done":
            done = joiner.join(self._label("action", v) for v in values)
            return f"it is recorded that: {done}"
        return joiner.join(self._label(name, v) for v in values)


def describer_for(document: PackDocument) -> Describer:
    """A describer that names the pack's own flags, kinds, patterns and actions."""
    return Describer(
        {
            "flags": dict(document.flags),
            "failed_contact_kind": {k: v.name for k, v in document.failed_contacts.items()},
            "patterns": {p.id: p.title for p in document.patterns},
            "action": {k: v.title.lower() for k, v in document.actions.items()},
        }
    )
