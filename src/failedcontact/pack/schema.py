"""Validate located YAML data against the pack document models."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, did_you_mean, one_of
from .document import PackDocument
from .reader import Located, Path

_PACK_KEYS = frozenset({"id", "title", "source", "calendar", "failed_contacts", "risk", "actions"})


def validate_document(source: Located) -> PackDocument | list[Diagnostic]:
    """Return the validated document, or a diagnostic for every schema problem."""
    if not isinstance(source.data, dict):
        return [source.diagnostic("pack.schema", "a pack must be a yaml mapping", ())]
    if not _PACK_KEYS & set(source.data):
        # Say so once, without echoing the file's contents back as "unknown fields".
        return [
            source.diagnostic(
                "pack.not-a-pack",
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
        return [source.diagnostic("pack.schema", f"invalid pack: {error}".lower(), ())]


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


def _diagnostics(source: Located, error: ValidationError) -> list[Diagnostic]:
    seen: dict[Path, Diagnostic] = {}
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        path = data_path(source.data, loc)
        kind = item["type"]
        if path in seen:
            continue  # one diagnostic per place: a union reports each member's complaint
        shown = dotted(path)
        if kind == "extra_forbidden":
            key = str(path[-1])
            allowed = fields_at(path[:-1])
            help_line = did_you_mean(key, allowed) or (
                f"expected one of {one_of(allowed)}" if allowed else None
            )
            diag = source.diagnostic(
                "pack.unknown-field",
                f"unknown field `{key}` in `{dotted(path[:-1]) or 'the pack'}`",
                path,
                help_line,
                key=True,
            )
        elif kind == "missing":
            parent = path[:-1] if path and path[-1] == loc[-1] else path
            diag = source.diagnostic(
                "pack.missing-field",
                f"missing field `{loc[-1]}` in `{dotted(parent) or 'the pack'}`",
                parent,
                key=True,
            )
        else:
            message = item["msg"][0].lower() + item["msg"][1:]
            diag = source.diagnostic("pack.schema", f"`{shown}`: {message}", path, _union_help(loc))
        seen[path] = diag
    return list(seen.values())


def _union_help(loc: tuple[int | str, ...]) -> str | None:
    if "deadline" in loc:
        return (
            "a deadline is `immediately`, `none`, `{working_days: N}`, `{hours: N}`, "
            "`{calendar_days: N}`, `{weeks: N}` or `{months: N}`"
        )
    return None


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
