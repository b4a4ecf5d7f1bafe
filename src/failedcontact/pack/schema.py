"""Validate located YAML data against the pack document models."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..codes import Code
from ..errors import Diagnostic, did_you_mean, lowercase_first, one_of
from ..source.reader import Located, Path
from .document import TIMESCALE_HELP, UNITS, PackDocument

_PACK_KEYS = frozenset({"id", "title", "source", "calendar", "failed_contacts", "risk", "actions"})


def invalid_paths(source: Located) -> list[Path]:
    """The data paths of every schema problem (for a pipeline that carries on without them)."""
    try:
        PackDocument.model_validate(source.data)
    except ValidationError as error:
        return [data_path(source.data, tuple(item["loc"])) for item in error.errors()]
    except (TypeError, ValueError):
        return [()]
    return []


def validate_document(source: Located) -> PackDocument | list[Diagnostic]:
    """Return the validated document, or a diagnostic for every schema problem."""
    if not isinstance(source.data, dict):
        return [source.diagnostic(Code.PACK_SCHEMA, "a pack must be a yaml mapping", ())]
    if not _PACK_KEYS & set(source.data):
        # Say so once, without echoing the file's contents back as "unknown fields".
        return [
            source.diagnostic(
                Code.PACK_NOT_A_PACK,
                "this file is not a policy pack: it has none of a pack's keys",
                (),
                f"a pack is a yaml mapping with {one_of(sorted(_PACK_KEYS))} and more",
            )
        ]
    try:
        return PackDocument.model_validate(source.data)
    except ValidationError as error:
        return _diagnostics(source, error)
    except (TypeError, ValueError) as error:  # a validator given a value it cannot handle
        return [
            source.diagnostic(Code.PACK_SCHEMA, f"invalid pack: {lowercase_first(str(error))}", ())
        ]


def data_path(data: Any, loc: tuple[int | str, ...]) -> Path:
    """Keep the parts of a pydantic location that index real data (drop union member tags)."""
    path: list[str | int] = []
    node = data
    last = len(loc) - 1
    for position, part in enumerate(loc):
        indexes_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if (isinstance(node, dict) and part in node) or indexes_list:
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and position == last:
            path.append(part)  # a missing key: reported at its parent mapping
    return tuple(path)


@dataclass(frozen=True, slots=True)
class SchemaCodes:
    """The codes a file kind's shape mistakes get: packs, scenario files, mapping files."""

    unknown_field: Code
    missing_field: Code
    schema: Code


PACK_SCHEMA = SchemaCodes(Code.PACK_UNKNOWN_FIELD, Code.PACK_MISSING_FIELD, Code.PACK_SCHEMA)


def _diagnostics(source: Located, error: ValidationError) -> list[Diagnostic]:
    return validation_diagnostics(source, error, PackDocument, PACK_SCHEMA, "the pack")


def validation_diagnostics(
    source: Located,
    error: ValidationError,
    root: type[BaseModel],
    codes: SchemaCodes,
    whole: str,
) -> list[Diagnostic]:
    """One located diagnostic per mistake, in a policy lead's words."""
    seen: dict[Path, Diagnostic] = {}
    for item in _mistakes(error.errors(include_url=False)):
        loc = tuple(item["loc"])
        path = data_path(source.data, loc)
        kind = item["type"]
        if path in seen:
            continue  # one diagnostic per place
        given = item.get("input")
        if kind == "extra_forbidden":
            key = str(path[-1])
            allowed = fields_at(path[:-1], root)
            help_line = did_you_mean(key, allowed) or (
                f"expected one of {one_of(allowed)}" if allowed else None
            )
            diag = source.diagnostic(
                codes.unknown_field,
                f"unknown field `{key}` in `{dotted(path[:-1]) or whole}`",
                path,
                help_line,
                key=True,
            )
        elif kind == "missing":
            parent = path[:-1] if path and path[-1] == loc[-1] else path
            diag = source.diagnostic(
                codes.missing_field,
                f"missing field `{loc[-1]}` in `{dotted(parent) or whole}`",
                parent,
                key=True,
            )
        elif kind == "timescale":
            diag = _timescale_diagnostic(source, codes, path, given, item["msg"])
        else:
            diag = _value_diagnostic(source, codes, item, path, whole)
        seen[path] = diag
    return list(seen.values())


def _mistakes(items: list[Any]) -> list[Any]:
    """Pydantic's errors without the echoes of one mistake: the other members of a union
    (`constrained-str` beside the mapping actually written) and a list found "too short"
    because its item was refused."""
    locs = [tuple(item["loc"]) for item in items]

    def echo(index: int, item: Any) -> bool:
        loc = locs[index]
        others = [other for i, other in enumerate(locs) if i != index]
        if item["type"] == "string_type" and isinstance(item.get("input"), dict | list):
            return any(other[: len(loc) - 1] == loc[:-1] for other in others)
        if item["type"] == "too_short":
            return any(other[: len(loc)] == loc and len(other) > len(loc) for other in others)
        return False

    return [item for index, item in enumerate(items) if not echo(index, item)]


def _timescale_diagnostic(
    source: Located, codes: SchemaCodes, path: Path, given: Any, message: str
) -> Diagnostic:
    keys = list(given) if isinstance(given, dict) else []
    wrong = [k for k in keys if k not in UNITS]
    help_line = did_you_mean(str(wrong[0]), UNITS) if wrong else None
    # the help the model gives this place: a duty's `every` takes no `immediately` or `none`
    allowed = str(message).removeprefix("Value error, ") or TIMESCALE_HELP
    what = "has more than one unit" if len(keys) > 1 else "is not a timescale"
    if given in ("immediately", "none") and f"`{given}`" not in allowed:
        what = "is not a length of time: a recurring duty needs the longest gap allowed"
    return source.diagnostic(
        codes.schema, f"`{dotted(path)}`: `{_brief(given)}` {what}", path, help_line or allowed
    )


def _value_diagnostic(
    source: Located, codes: SchemaCodes, item: Any, path: Path, whole: str
) -> Diagnostic:
    """A wrong type, range or choice: pydantic's message, in lowercase, with what was given."""
    loc, kind, given = tuple(item["loc"]), item["type"], item.get("input")
    bounds = {k: f"{v:g}" if isinstance(v, float) else v for k, v in item.get("ctx", {}).items()}
    message = _BOUNDS.get(kind, "").format(**bounds) or lowercase_first(
        str(item["msg"]).removeprefix("Value error, ")
    )
    in_timescale = (path and path[-1] in UNITS) or (kind == "literal_error" and "word" in loc)
    help_line = TIMESCALE_HELP if in_timescale else None
    if help_line and kind in ("greater_than", "greater_than_equal"):
        help_line = ("for no time at all, write `deadline: immediately`" if "deadline" in path
                     else "a recurring duty's gap is at least one unit")  # fmt: skip
    if kind in ("tuple_type", "list_type") and isinstance(given, str) and path:
        message = "must be a list, not one word"
        help_line = f"write it in brackets: `{path[-1]}: [{given}]`"
    if given is not None and not isinstance(given, dict | list) and kind != "value_error":
        message += f" (got `{given}`)"
    return source.diagnostic(codes.schema, f"`{dotted(path) or whole}`: {message}", path, help_line)


# Range mistakes in words (pydantic's "input should be greater than or equal to 1").
_BOUNDS = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
}


def _brief(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


def dotted(path: Path) -> str:
    """A data path as text: `rules[2].require[0]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def fields_at(path: Path, root: type[BaseModel] = PackDocument) -> list[str]:
    """The field names the model allows at `path`, as far as it can be followed."""
    annotation: Any = root
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model = _model_in(annotation)
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for candidate in _flatten(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [x for arg in typing.get_args(annotation) for x in _flatten(arg)]
    return [annotation]


def _step(annotation: Any, part: str | int) -> Any:
    for candidate in _flatten(annotation):
        origin = typing.get_origin(candidate)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            field = candidate.model_fields.get(str(part))
            if field is not None:
                return field.annotation
        elif origin in (tuple, list) and isinstance(part, int):
            return typing.get_args(candidate)[0]
        elif origin is dict:
            return typing.get_args(candidate)[1]
    return None
