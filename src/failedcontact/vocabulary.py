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


class HomeVisitOutcome(StrEnum):
    """What happened at a home visit."""

    CHILD_SEEN = "child_seen"
    NO_RESPONSE = "no_response"
    ACCESS_REFUSED = "access_refused"
    DOORSTEP = "doorstep"
    CHILD_NOT_SEEN = "child_not_seen"
    PREVENTED_FROM_SEEING_CHILD = "prevented_from_seeing_child"
    CHILD_ALONE = "child_alone"


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

# Event types that carry an `outcome`.
OUTCOME_EVENT_TYPES: frozenset[str] = frozenset({"home_visit", "appointment", "call"})

# Outcomes that end the current run of failed contacts (contract: "Events").
SEEN_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {("home_visit", "child_seen"), ("appointment", "attended")}
)
SEEN_OUTCOMES: frozenset[str] = frozenset(f"{t}.{o}" for t, o in SEEN_PAIRS)

# Every `type.outcome` pair a pack may count as a failed contact.
CONTACT_OUTCOMES: tuple[str, ...] = tuple(
    [f"home_visit.{o.value}" for o in HomeVisitOutcome]
    + [f"appointment.{o.value}" for o in AppointmentOutcome]
    + [f"call.{o.value}" for o in CallOutcome]
)

SHARED_ACTION_IDS: tuple[str, ...] = (
    "check_address",
    "leave_written_communication",
    "review_child_record",
    "send_no_access_letter",
    "offer_further_appointment",
    "telephone_family",
    "involve_familiar_professionals",
    "request_joint_visit_with_housing_officer",
    "inform_line_manager",
    "discuss_with_practice_manager",
    "check_childrens_services_records",
    "manager_writes_to_family",
    "record_refusal_reason",
    "check_other_agencies",
    "inform_lead_professional",
    "discuss_with_cp_lead",
    "discuss_with_key_worker",
    "confirm_discussion_in_writing",
    "social_worker_discusses_with_line_manager",
    "further_visit",
    "consider_referral_to_social_care",
    "report_significant_harm",
    "call_police",
    "risk_assessment",
    "case_analysis",
    "record_failed_contact",
)

SHARED_PATTERN_IDS: tuple[str, ...] = (
    "disguised_compliance",
    "closure",
    "flight",
    "repeat_requests",
)

CONTRACT_VERSION = "1"
