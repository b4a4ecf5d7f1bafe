"""The closed vocabularies of the contract: enums and the shared action and pattern ids."""

from __future__ import annotations

from enum import StrEnum


class Service(StrEnum):
    """The kind of service that holds the case."""

    UNIVERSAL = "universal"
    EARLY_HELP = "early_help"
    SOCIAL_CARE = "social_care"
    ADULT_SERVICE = "adult_service"


class Plan(StrEnum):
    """The plan the child is subject to."""

    NONE = "none"
    EARLY_HELP = "early_help"
    CHILD_IN_NEED = "child_in_need"
    CHILD_PROTECTION = "child_protection"
    LOOKED_AFTER = "looked_after"


class Tenure(StrEnum):
    """How the household holds its home."""

    COUNCIL = "council"
    HOUSING_ASSOCIATION = "housing_association"
    PRIVATE_RENTED = "private_rented"
    OWNER_OCCUPIER = "owner_occupier"
    UNKNOWN = "unknown"


class EventType(StrEnum):
    """The `type` of a case event."""

    HOME_VISIT = "home_visit"
    APPOINTMENT = "appointment"
    CALL = "call"
    MESSAGE = "message"
    ACTION = "action"
    SEEN_BY_OTHER_AGENCY = "seen_by_other_agency"
    ADDRESS_CHANGE = "address_change"
    CONCERN = "concern"
    SERVICE_REFUSED = "service_refused"
    SUPPORT_REQUEST = "support_request"
    WORKER_ABSENCE = "worker_absence"
    REFERRAL = "referral"
    PLAN_CHANGE = "plan_change"
    REVIEW = "review"
    TIMESCALE = "timescale"


class HomeVisitOutcome(StrEnum):
    """What happened at a home visit."""

    CHILD_SEEN = "child_seen"
    NO_RESPONSE = "no_response"
    ACCESS_REFUSED = "access_refused"
    DOORSTEP = "doorstep"
    CHILD_NOT_SEEN = "child_not_seen"
    PREVENTED_FROM_SEEING_CHILD = "prevented_from_seeing_child"
    CHILD_ALONE = "child_alone"
    SEEN_NOT_ALONE = "seen_not_alone"
    SEEN_ALONE_REFUSED = "seen_alone_refused"


class AppointmentOutcome(StrEnum):
    """What happened to an appointment outside the home."""

    ATTENDED = "attended"
    NOT_BROUGHT = "not_brought"
    CANCELLED_BY_FAMILY = "cancelled_by_family"
    REARRANGED_BY_FAMILY = "rearranged_by_family"
    CANCELLED_BY_SERVICE = "cancelled_by_service"


class CallOutcome(StrEnum):
    """Whether a telephone call was answered."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"


class Channel(StrEnum):
    """How a written communication was sent or left."""

    LETTER = "letter"
    TEXT = "text"
    EMAIL = "email"
    CARD = "card"


class ConcernLevel(StrEnum):
    """How serious an identified safeguarding concern is."""

    WELFARE = "welfare"
    SIGNIFICANT_HARM = "significant_harm"
    IMMEDIATE_DANGER = "immediate_danger"


class ReferralKind(StrEnum):
    """What a referral starts (contract 1.1)."""

    CONTACT = "contact"
    EARLY_HELP = "early_help"
    CHILD_AND_FAMILY_ASSESSMENT = "child_and_family_assessment"
    SECTION_47 = "section_47"
    STRATEGY_DISCUSSION = "strategy_discussion"


class ReviewKind(StrEnum):
    """Which review meeting or conference took place (contract 1.1)."""

    CIN_REVIEW = "cin_review"
    CP_CONFERENCE = "cp_conference"
    CORE_GROUP = "core_group"
    LOOKED_AFTER_REVIEW = "looked_after_review"
    PROFESSIONALS_MEETING = "professionals_meeting"


class ActionCategory(StrEnum):
    """What kind of work an action is, so a case system can map every action (contract 1.1)."""

    VISIT = "visit"
    APPOINTMENT = "appointment"
    CALL = "call"
    LETTER = "letter"
    RECORD = "record"
    MANAGER = "manager"
    SAFEGUARDING = "safeguarding"
    MULTI_AGENCY = "multi_agency"
    REFERRAL = "referral"
    EMERGENCY = "emergency"
    ASSESSMENT = "assessment"
    PLAN = "plan"


class RiskTier(StrEnum):
    """The assessed risk tier, lowest first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ActionStatus(StrEnum):
    """Where a required action stands at `as_of`."""

    DONE = "done"
    OVERDUE = "overdue"
    OUTSTANDING = "outstanding"


RISK_ORDER: dict[RiskTier, int] = {RiskTier.LOW: 0, RiskTier.MEDIUM: 1, RiskTier.HIGH: 2}


# Outcomes that end the current run of failed contacts (contract: "Events").
SEEN_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {("home_visit", "child_seen"), ("home_visit", "seen_not_alone"), ("appointment", "attended")}
)

# Event types that open a new episode (contract 1.1); the first event opens the first one.
EPISODE_EVENT_TYPES: frozenset[str] = frozenset({"referral", "support_request"})
SEEN_OUTCOMES: frozenset[str] = frozenset(f"{t}.{o}" for t, o in SEEN_PAIRS)

# Every `type.outcome` pair a pack may count as a failed contact.
# Each event type that carries an outcome, with its outcomes in contract order.
OUTCOMES_BY_EVENT: dict[str, tuple[str, ...]] = {
    "home_visit": tuple(o.value for o in HomeVisitOutcome),
    "appointment": tuple(o.value for o in AppointmentOutcome),
    "call": tuple(o.value for o in CallOutcome),
}
# Event types that carry an `outcome`.
OUTCOME_EVENT_TYPES: frozenset[str] = frozenset(OUTCOMES_BY_EVENT)
CONTACT_OUTCOMES: tuple[str, ...] = tuple(
    f"{event}.{outcome}" for event, outcomes in OUTCOMES_BY_EVENT.items() for outcome in outcomes
)

# The shared action ids and their fixed categories (contract: "Shared action ids").
SHARED_ACTION_CATEGORIES: dict[str, ActionCategory] = {
    "check_address": ActionCategory.MULTI_AGENCY,
    "leave_written_communication": ActionCategory.LETTER,
    "review_child_record": ActionCategory.ASSESSMENT,
    "send_no_access_letter": ActionCategory.LETTER,
    "offer_further_appointment": ActionCategory.APPOINTMENT,
    "telephone_family": ActionCategory.CALL,
    "involve_familiar_professionals": ActionCategory.MULTI_AGENCY,
    "request_joint_visit_with_housing_officer": ActionCategory.VISIT,
    "inform_line_manager": ActionCategory.MANAGER,
    "discuss_with_practice_manager": ActionCategory.MANAGER,
    "check_childrens_services_records": ActionCategory.MULTI_AGENCY,
    "manager_writes_to_family": ActionCategory.LETTER,
    "record_refusal_reason": ActionCategory.RECORD,
    "check_other_agencies": ActionCategory.MULTI_AGENCY,
    "inform_lead_professional": ActionCategory.MULTI_AGENCY,
    "discuss_with_cp_lead": ActionCategory.SAFEGUARDING,
    "discuss_with_key_worker": ActionCategory.MULTI_AGENCY,
    "confirm_discussion_in_writing": ActionCategory.RECORD,
    "social_worker_discusses_with_line_manager": ActionCategory.MANAGER,
    "further_visit": ActionCategory.VISIT,
    "consider_referral_to_social_care": ActionCategory.REFERRAL,
    "report_significant_harm": ActionCategory.REFERRAL,
    "call_police": ActionCategory.EMERGENCY,
    "risk_assessment": ActionCategory.ASSESSMENT,
    "case_analysis": ActionCategory.ASSESSMENT,
    "record_failed_contact": ActionCategory.RECORD,
}
SHARED_ACTION_IDS: tuple[str, ...] = tuple(SHARED_ACTION_CATEGORIES)

# Other names a pack might give a shared action: a pack's own id named like this means the
# same as the shared id and should use it (docs/decisions.md, "means the same").
SHARED_ACTION_ALIASES: dict[str, tuple[str, ...]] = {
    "check_address": ("confirm_address", "verify_address", "address_check"),
    "leave_written_communication": ("leave_card", "leave_calling_card", "leave_note"),
    "review_child_record": ("review_record", "check_child_record", "assess_from_record"),
    "send_no_access_letter": ("no_access_letter", "send_letter", "write_to_family"),
    "offer_further_appointment": ("offer_appointment", "rebook_appointment", "reappoint"),
    "telephone_family": ("phone_family", "call_family", "ring_family"),
    "inform_line_manager": ("tell_line_manager", "inform_manager", "tell_manager"),
    "discuss_with_cp_lead": (
        "discuss_with_safeguarding_lead",
        "consult_safeguarding_lead",
        "discuss_with_designated_lead",
    ),
    "further_visit": ("revisit", "repeat_visit", "return_visit", "visit_again"),
    "consider_referral_to_social_care": (
        "make_referral",
        "refer_to_social_care",
        "referral_to_social_care",
        "social_care_referral",
    ),
    "report_significant_harm": ("report_harm", "report_concern", "report_to_social_care"),
    "call_police": ("call_999", "phone_police", "contact_police"),
    "risk_assessment": ("assess_risk", "complete_risk_assessment", "risk_assess"),
    "record_failed_contact": ("record_contact", "record_no_access", "record_attempt"),
}

SHARED_PATTERN_IDS: tuple[str, ...] = (
    "disguised_compliance",
    "closure",
    "flight",
    "repeat_requests",
)

CONTRACT_VERSION = "1.2"
