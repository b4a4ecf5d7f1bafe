"""Whether a mapping's values fit the contract: case fields, event fields, event templates.

Used when a mapping file is checked (`interop.mapping`), so a code mapped to something the
contract cannot hold is refused with the file, line and column, never met in a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import did_you_mean, one_of
from ..model import case as case_models
from ..model.vocabulary import EventType

__all__ = [
    "EVENT_MODELS",
    "case_field_problem",
    "case_fields",
    "event_field_problem",
    "event_template_problems",
]

EVENT_MODELS: dict[str, type[BaseModel]] = {
    get_args(model.model_fields["type"].annotation)[0]: model for model in case_models.EVENT_MODELS
}
assert set(EVENT_MODELS) == {t.value for t in EventType}

_CASE_PARTS: dict[str, type[BaseModel]] = {
    "child": case_models.Child,
    "household": case_models.Household,
}


@cache
def _adapter(model: type[BaseModel], field: str) -> TypeAdapter[Any]:
    annotation: Any = model.model_fields[field].annotation
    return TypeAdapter(annotation)


def case_fields() -> list[str]:
    """Every case field a mapping may fill: `service`, `flags`, `child.*`, `household.*`."""
    names = ["service", "flags"]
    for part, model in _CASE_PARTS.items():
        names += [f"{part}.{name}" for name in model.model_fields]
    return names


def case_field_problem(field: str, value: Any) -> tuple[str, str | None] | None:
    """Why `value` cannot fill case field `field` (message, help), or None."""
    if field not in case_fields():
        return (f"unknown case field `{field}`", did_you_mean(field, case_fields()))
    if field == "flags":
        ok = isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        return None if ok else ("flags are text", None)
    model: type[BaseModel]
    if field == "service":
        model, name = case_models.Case, "service"
    else:
        part, name = field.split(".", 1)
        model = _CASE_PARTS[part]
    try:
        _adapter(model, name).validate_python(value)
    except ValidationError as error:
        return (f"`{value}` is not a valid `{field}`: {_first(error)}", None)
    return None


def event_field_problem(types: list[str], field: str, value: Any) -> tuple[str, str | None] | None:
    """Why `field: value` fits none of the event `types`, or None."""
    fits = [t for t in types if field in EVENT_MODELS[t].model_fields and field != "at"]
    if not fits:
        known = sorted({f for t in types for f in EVENT_MODELS[t].model_fields} - {"at", "type"})
        return (
            f"`{field}` is not a field of {one_of(types)} events",
            did_you_mean(field, known) or f"expected one of {one_of(known)}",
        )
    problems = []
    for event_type in fits:
        try:
            _adapter(EVENT_MODELS[event_type], field).validate_python(value)
            return None
        except ValidationError as error:
            problems.append(_first(error))
    return (f"`{value}` is not a valid `{field}`: {problems[0]}", _choices_help(fits, field, value))


def _choices_help(types: list[str], field: str, value: Any) -> str | None:
    choices: list[str] = []
    for event_type in types:
        annotation = EVENT_MODELS[event_type].model_fields[field].annotation
        if isinstance(annotation, type) and issubclass(annotation, StrEnum):
            choices += [member.value for member in annotation]
    if not choices:
        return None
    return did_you_mean(str(value), choices) or f"expected one of {one_of(choices)}"


def _first(error: ValidationError) -> str:
    message = str(error.errors(include_url=False)[0]["msg"])
    return message[:1].lower() + message[1:]


def event_template_problems(
    template: Mapping[str, Any], default_types: list[str] | None = None
) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """Every reason a partial event cannot be part of a contract event: (path, message, help)."""
    problems: list[tuple[tuple[str | int, ...], str, str | None]] = []
    event_type = template.get("type")
    if event_type is None:
        types = default_types or list(EVENT_MODELS)
        if default_types is None:
            problems.append(((), "an event needs a `type`", f"one of {one_of(EVENT_MODELS)}"))
            return problems
    elif event_type not in EVENT_MODELS:
        help_line = did_you_mean(str(event_type), EVENT_MODELS) or (
            f"expected one of {one_of(EVENT_MODELS)}"
        )
        return [(("type",), f"unknown event type `{event_type}`", help_line)]
    else:
        types = [str(event_type)]
    for field, value in template.items():
        if field == "type":
            continue
        problem = event_field_problem(types, str(field), value)
        if problem:
            problems.append(((str(field),), *problem))
    return problems
