"""One wording for each thing every view says: a timescale, an outcome, a status, a count.

`explain`, the terminal table, the HTML report, the handbook and the FHIR Tasks all call
these, so a practitioner reads one phrase for one thing wherever they read it.
"""

from __future__ import annotations

from ..pack.compiler import Timescale
from .describe import humanise, label, ordinal

_UNITS = {
    "working_days": ("working day", "working days"),
    "hours": ("hour", "hours"),
    "calendar_days": ("calendar day", "calendar days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
}


def _amount(timescale: Timescale) -> str:
    singular, plural = _UNITS[timescale.kind]
    amount = f"{timescale.amount:g}"
    return f"{amount} {singular if amount == '1' else plural}"


def timescale_words(timescale: Timescale) -> str:
    """`within 5 working days`, `immediately`, `no timescale is set`."""
    if timescale.kind == "immediately":
        return "immediately"
    if timescale.kind == "none":
        return "no timescale is set"
    return f"within {_amount(timescale)}"


def deadline_rule(timescale: Timescale) -> str:
    """How the due time is worked out from the trigger, in the unit the pack wrote."""
    kind = timescale.kind
    if kind == "immediately":
        return "due at once, when the trigger happens"
    if kind == "none":
        return ""
    if kind == "working_days":
        day = ordinal(int(timescale.amount))
        return (
            f"by the end of the {day} working day after the trigger's day "
            "(weekends and bank holidays do not count)"
        )
    if kind == "hours":
        return f"{_amount(timescale)} after the trigger, at any hour of any day"
    return f"by the end of the day {_amount(timescale)} after the trigger's day"


def recurring_words(timescale: Timescale) -> str:
    """`at least every 6 weeks`, for a recurring duty."""
    if timescale.kind in _UNITS:
        return f"at least every {_amount(timescale)}"
    return timescale_words(timescale)


def outcome_words(event_type: str, outcome: str) -> str:
    """An outcome as the views name it: `the practitioner prevented from seeing the child`."""
    del event_type  # outcomes are worded alike for every event type that has them
    return label("outcome", outcome)


def status_words(status: str) -> str:
    """`outstanding`, `overdue`, `done`: the status as every view prints it."""
    return humanise(status)


def failed_contacts_words(count: int) -> str:
    """The run of failed contacts, with its referent: since the child was last seen."""
    if count == 0:
        return "no failed contacts since the child was last seen"
    noun = "failed contact" if count == 1 else "failed contacts"
    return f"{count} {noun} in a row since the child was last seen"


def dialable(phone: str) -> list[str]:
    """The numbers to dial for a number as printed; `a/b` is a number and its alternative line."""
    first, *others = (part.strip() for part in phone.split("/"))
    base = "".join(c for c in first if c.isdigit() or c == "+")
    numbers = [base]
    for other in others:
        digits = "".join(c for c in other if c.isdigit())
        numbers.append(base[: len(base) - len(digits)] + digits if digits else base)
    return numbers


def call_line(name: str, phone: str) -> str:
    """`Call <team> on <number as printed> (dial <each number in digits>).`"""
    numbers = dialable(phone)
    dial = "" if numbers == [phone] else f" (dial {' or '.join(numbers)})"
    return f"Call {name} on {phone}{dial}."


def event_number(index: int) -> int:
    """An event's number as people count: the first event is event 1."""
    return index + 1
