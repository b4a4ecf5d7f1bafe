"""Read a pack's YAML into plain data and a map from every node's path to its location."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError

from ..errors import Diagnostic

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Located:
    """Plain YAML data with the 1-based line and column of every key and value."""

    file: str
    data: Any
    keys: Mapping[Path, tuple[int, int]]
    values: Mapping[Path, tuple[int, int]]

    def where(self, path: Path) -> tuple[int, int]:
        """The location of the value at `path`, or of its nearest located ancestor."""
        probe = tuple(path)
        while probe:
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return (1, 1)

    def where_key(self, path: Path) -> tuple[int, int]:
        """The location of the key that names `path`, falling back to its value."""
        return self.keys.get(tuple(path)) or self.where(path)

    def diagnostic(
        self, code: str, message: str, path: Path, help: str | None = None, key: bool = False
    ) -> Diagnostic:
        """Build a diagnostic located at `path` in this file."""
        line, column = self.where_key(path) if key else self.where(path)
        return Diagnostic(code, message, self.file, line, column, help)


class _Walk:
    def __init__(self) -> None:
        self.keys: dict[Path, tuple[int, int]] = {}
        self.values: dict[Path, tuple[int, int]] = {(): (1, 1)}
        self.tags: list[tuple[str, Path]] = []

    def plain(self, node: Any, path: Path) -> Any:
        tag = getattr(getattr(node, "tag", None), "value", None)
        if tag is not None:
            self.tags.append((str(tag), path))
        if isinstance(node, CommentedMap):
            result: dict[Any, Any] = {}
            for key in node:
                child = (*path, key)
                kl, kc = node.lc.key(key)
                vl, vc = node.lc.value(key)
                self.keys[child] = (kl + 1, kc + 1)
                self.values[child] = (vl + 1, vc + 1)
                result[key] = self.plain(node[key], child)
            return result
        if isinstance(node, CommentedSeq):
            items = []
            for index, item in enumerate(node):
                child = (*path, index)
                il, ic = node.lc.item(index)
                self.values[child] = (il + 1, ic + 1)
                items.append(self.plain(item, child))
            return items
        if isinstance(node, TaggedScalar):
            return node.value
        if isinstance(node, str):
            return str(node)
        return node


def read_yaml(text: str, file: str) -> Located | Diagnostic:
    """Parse YAML safely (no tags, no objects) and locate every node.

    Returns a diagnostic instead when the text is not YAML, has a duplicate key or
    uses a tag; the pipeline stops there because nothing after it can be located.
    """
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        root = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (error.problem or error.context or "invalid yaml").strip()
        code = "pack.duplicate-key" if "duplicate key" in str(error) else "pack.yaml"
        return Diagnostic(
            code,
            problem.lower(),
            file,
            line,
            column,
            "each key may appear once in a mapping" if code == "pack.duplicate-key" else None,
        )
    except Exception as error:  # ruamel raises several unrelated types for bad input
        return Diagnostic("pack.yaml", f"not readable as yaml: {error}".lower(), file, 1, 1)
    walk = _Walk()
    data = walk.plain(root, ())
    located = Located(file, data, walk.keys, walk.values)
    if walk.tags:
        tag, path = walk.tags[0]
        return located.diagnostic(
            "pack.yaml",
            f"yaml tag `{tag}` is not allowed in a pack",
            path,
            "packs are plain data: remove the tag",
        )
    return located
