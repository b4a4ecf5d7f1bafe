"""Case input: JSON text or plain data to a validated `Case`, and errors named by field path."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ..errors import CaseError, CaseIssue
from .case import Case, as_uk_instant
from .vocabulary import EventType


def as_of_instant(value: datetime | str) -> datetime:
    """`as_of` as an aware instant; raise `CaseError` if it is not one.

    An aware datetime is the instant it names. A naive one is read as UK local time
    (Europe/London), as event times are, never as the machine's zone. ISO 8601 text is read
    the same way (with or without an offset), as `--as-of` and the service's `as_of` are.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise CaseError([CaseIssue("as_of", f"expected an ISO 8601 date and time, got "
                                       f"`{value}`")]) from None  # fmt: skip
    if not isinstance(value, datetime):
        raise CaseError(
            [CaseIssue("as_of", f"expected a datetime or ISO 8601 text, got `{value!r}`")]
        )
    try:
        instant = as_uk_instant(value)
    except ValueError as error:
        raise CaseError([CaseIssue("as_of", str(error))]) from None
    offset = instant.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        # RFC 3339 offsets are whole minutes: an offset with seconds (some zones before
        # the 1970s-80s) is echoed as the same instant in UTC, identically on both paths.
        return instant.astimezone(UTC)
    return instant


def parse_as_of_text(text: str | None) -> datetime:
    """An `as_of` given as ISO 8601 text (naive means UK local time); None means now.

    Raises `ValueError` saying what is wrong with the text.
    """
    if text is None:
        return datetime.now(UTC)
    return as_uk_instant(datetime.fromisoformat(text))


def parse_case(data: str | bytes | dict[str, Any] | Any) -> Case:
    """Validate case input (JSON text or plain data) and raise `CaseError` naming each field.

    JSON text is the contract's wire format and is read strictly (a number is not a time);
    plain data may also carry `datetime` and `date` objects.
    """
    try:
        if isinstance(data, str | bytes):
            return Case.model_validate_json(data, strict=True)
        return Case.model_validate(data)
    except ValidationError as error:
        raise CaseError(case_issues(error)) from None


_EVENT_TAGS = frozenset(event_type.value for event_type in EventType)
_TIMESCALE_TAGS = frozenset({"word", "units"})


def case_issues(error: ValidationError) -> list[CaseIssue]:
    """Turn pydantic errors into field paths such as `events[3].outcome`."""
    issues = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        # A discriminated union puts the event type in the location: drop it.
        if len(loc) >= 3 and loc[0] == "events" and loc[2] in _EVENT_TAGS:
            del loc[2]
        # so does a timescale's `within` (a word or a mapping of one unit)
        if len(loc) >= 4 and loc[2] == "within" and loc[3] in _TIMESCALE_TAGS:
            del loc[3]
        path = ""
        for part in loc:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        kind = item["type"]
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "union_tag_invalid":
            message = (
                "unknown event type `"
                + str(item.get("ctx", {}).get("tag"))
                + "`; expected one of "
                + ", ".join(f"`{t}`" for t in sorted(_EVENT_TAGS))
            )
        elif kind == "union_tag_not_found":
            message = "event has no `type`"
        else:
            message = item["msg"].removeprefix("Value error, ")
            message = message[0].lower() + message[1:]
            given = item.get("input")
            if kind != "json_invalid" and given is not None and not isinstance(given, dict | list):
                message += f" (got `{given}`)"
        issues.append(CaseIssue(path, message))
    return issues
