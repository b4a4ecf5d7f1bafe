"""Read a YAML file into plain data and a map from every node's path to its location.

The one reader of every YAML file the library takes: packs, scenario files and mapping
files (`FileKind`). Each kind's problems have their own codes (`pack.yaml`,
`scenario.yaml`, `mapping.yaml`, ...), and a file that is missing or cannot be read is
reported the same way for every kind: a message naming the file, at no line.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path as FilePath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    ScalarEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..codes import Code
from ..errors import Diagnostic, lowercase_first

# Far above any real pack, far below trouble; raisable (docs/reliability.md).
from ..limits import MAX_ALIASES, MAX_DEPTH, MAX_NODES, MAX_PACK_BYTES
from .yaml_errors import explain, leading_zero

Path = tuple[str | int, ...]


class FileKind(StrEnum):
    """What a YAML file is to the library; the codes its reading problems get follow."""

    PACK = "pack"
    SCENARIO = "scenario"
    MAPPING = "mapping"

    @property
    def codes(self) -> ReadCodes:
        """The diagnostic codes of this kind's reading problems."""
        return _CODES[self]

    @property
    def noun(self) -> str:
        """`pack file`, `scenario file`, `mapping file`."""
        return f"{self.value} file"


@dataclass(frozen=True, slots=True)
class ReadCodes:
    """The code of each problem reading a file of one kind (codes.py explains each)."""

    not_found: str  # missing, not a regular file, or the system cannot read it
    not_text: str  # not UTF-8
    too_large: str  # over a size, nesting, alias or node limit
    yaml: str  # not plain YAML: a syntax error, a tag or a merge key
    duplicate_key: str


_CODES = {
    FileKind.PACK: ReadCodes(
        Code.PACK_NOT_FOUND,
        Code.PACK_NOT_A_PACK,
        Code.PACK_TOO_LARGE,
        Code.PACK_YAML,
        Code.PACK_DUPLICATE_KEY,
    ),
    FileKind.SCENARIO: ReadCodes(
        Code.SCENARIO_UNREADABLE,
        Code.SCENARIO_UNREADABLE,
        Code.SCENARIO_TOO_LARGE,
        Code.SCENARIO_YAML,
        Code.SCENARIO_DUPLICATE_KEY,
    ),
    FileKind.MAPPING: ReadCodes(
        Code.MAPPING_NOT_FOUND,
        Code.MAPPING_NOT_FOUND,
        Code.MAPPING_TOO_LARGE,
        Code.MAPPING_YAML,
        Code.MAPPING_DUPLICATE_KEY,
    ),
}


class _TooBig(Exception):
    """The data expands past `MAX_NODES` (aliases used as a bomb)."""


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
        self.nodes = 0

    def plain(self, node: Any, path: Path) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooBig
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
        if isinstance(node, str):
            return str(node)
        return node


def refuse_non_plain(events: Any, file: str, kind: FileKind = FileKind.PACK) -> Diagnostic | None:
    """Refuse what plain YAML 1.2 data does not need, before anything is built or expanded.

    Explicit tags (`!!python/object`, `!!binary`, `!<...>`, `%TAG` shorthands), merge keys
    (`<<`), nesting deeper than `MAX_DEPTH` and more than `MAX_ALIASES` aliases.
    """
    depth = aliases = 0
    codes = kind.codes

    def at(event: Event, code: str, message: str, help: str) -> Diagnostic:
        mark = event.start_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return Diagnostic(code, message, file, line, column, help)

    for event in events:
        tag = getattr(event, "tag", None)
        implicit = getattr(event, "implicit", True)
        explicit = tag is not None and not (
            implicit if isinstance(implicit, bool) else any(implicit)
        )
        if explicit or (tag is not None and isinstance(event, CollectionStartEvent)):
            return at(event, codes.yaml, f"yaml tag `{tag}` is not allowed in a pack",
                      "packs are plain data, yaml 1.2 core types only (text, numbers, "
                      "true/false, null, lists and mappings): remove the tag")  # fmt: skip
        if isinstance(event, ScalarEvent) and event.value == "<<" and implicit != (False, True):
            return at(event, codes.yaml, "merge keys (`<<`) are not allowed in a pack",
                      "write the keys out, or repeat a whole value with an alias")  # fmt: skip
        if isinstance(event, ScalarEvent) and not event.style and implicit != (False, True):
            zero = leading_zero(str(event.value))
            if zero is not None:
                return at(event, codes.yaml, *zero)
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return at(event, codes.too_large,
                          f"the data is nested more than {MAX_DEPTH} levels deep",
                          "a pack needs only a few levels")  # fmt: skip
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        elif isinstance(event, AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                return at(event, codes.too_large,
                          f"the pack uses more than {MAX_ALIASES} aliases",
                          "use anchors and aliases only to repeat small parts")  # fmt: skip
    return None


def read_source(
    kind: FileKind, path: str | FilePath, *, text: str | None = None
) -> Located | Diagnostic:
    """The YAML file of `kind` at `path`, or `text` (reported as `path`), read and located.

    A diagnostic with the kind's code instead when the file is missing or unreadable (at no
    line: the message names the file) or its text is not plain YAML (`read_yaml`).
    """
    if text is None:
        read = read_text(FilePath(path), kind)
        if isinstance(read, Diagnostic):
            return read
        text = read
    return read_yaml(text, str(path), kind)


def read_text(path: FilePath, kind: FileKind, shown_as: str | None = None) -> str | Diagnostic:
    """A file's text: a regular file, within the size limit, in UTF-8; else why not."""
    where = shown_as or str(path)
    codes = kind.codes

    def problem(code: str, message: str) -> Diagnostic:
        return Diagnostic(code, message, where, 0, 0)  # about the file, not a place in it

    try:
        if not path.is_file():  # a FIFO or device would block or never end
            if not path.exists():
                return missing_file(kind, where)
            return problem(codes.not_found, f"`{where}` is not a regular file")
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            return problem(codes.too_large, f"`{where}` is {size:,} bytes; a {kind.noun} may "
                           f"have at most {MAX_PACK_BYTES:,}")  # fmt: skip
        raw = path.read_bytes()
    except FileNotFoundError:
        return missing_file(kind, where)
    except OSError as error:  # the system's words, without `[Errno 13]` and the path again
        why = f": {error.strerror}" if error.strerror else ""
        return problem(codes.not_found, f"cannot read `{where}`{why}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return problem(codes.not_text, f"`{where}` is not UTF-8 text (byte {error.start + 1})")


def missing_file(kind: FileKind, where: str) -> Diagnostic:
    """The one report of a missing file of any kind, at no line: "no pack file `x`"."""
    return Diagnostic(kind.codes.not_found, f"no {kind.noun} `{where}`", where, 0, 0)


def read_yaml(text: str, file: str, kind: FileKind = FileKind.PACK) -> Located | Diagnostic:
    """Parse YAML safely (no tags, no objects) and locate every node.

    Returns a diagnostic instead, with the code for `kind`, when the text is not YAML, has
    a duplicate key or uses a tag; the pipeline stops there because nothing after it can be
    located.
    """
    if len(text) > MAX_PACK_BYTES:
        return Diagnostic(
            kind.codes.too_large,
            f"the file is {len(text):,} characters; a pack may have at most {MAX_PACK_BYTES:,}",
            file,
            1,
            1,
        )
    fast = _read_plain(text, file)
    return fast if fast is not None else _read_round_trip(text, file, kind)


class _NotPlain(Exception):
    """The fast reader met something it leaves to the round-trip reader to explain."""


def _read_plain(text: str, file: str) -> Located | None:
    """Read a well-formed pack with the safe loader (libyaml when installed): about ten
    times faster than the round-trip loader. None for anything it does not accept, so the
    round-trip reader explains every problem in one established wording.
    """
    yaml = YAML(typ="safe", pure=False)
    try:
        if refuse_non_plain(yaml.parse(text), file) is not None:
            return None
        root = yaml.compose(text)
        walk = _NodeWalk(yaml.constructor)
        data = walk.plain(root, ()) if root is not None else None
    except (YAMLError, _NotPlain, _TooBig, ValueError, TypeError):
        return None
    return Located(file, data, walk.keys, walk.values)


class _NodeWalk:
    """Composed YAML nodes to plain data, locating every key and value as it goes."""

    def __init__(self, constructor: Any) -> None:
        self.constructor = constructor
        self.keys: dict[Path, tuple[int, int]] = {}
        self.values: dict[Path, tuple[int, int]] = {(): (1, 1)}
        self.nodes = 0

    def plain(self, node: Node, path: Path) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooBig
        if isinstance(node, MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    raise _NotPlain  # a collection as a key
                key = self.scalar(key_node)
                if not isinstance(key, str | int) or key in result:
                    raise _NotPlain  # the round-trip reader names the duplicate
                child = (*path, key)
                self.keys[child] = _where(key_node)
                self.values[child] = _where(value_node)
                result[key] = self.plain(value_node, child)
            return result
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.values[child] = _where(item)
                items.append(self.plain(item, child))
            return items
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        raise _NotPlain

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag == "tag:yaml.org,2002:str":
            return str(node.value)
        return self.constructor.construct_object(node, deep=True)


def _where(node: Node) -> tuple[int, int]:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


def _yaml_problem(error: MarkedYAMLError, text: str, file: str, codes: ReadCodes) -> Diagnostic:
    """The parser's error in plain words at the line of the mistake (`yaml_errors`), else in
    the parser's own words at its mark."""
    code = codes.duplicate_key if "duplicate key" in str(error) else codes.yaml
    plain = explain(error, text)
    if plain is not None:
        return Diagnostic(code, plain.message, file, plain.line, plain.column, plain.help)
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = (error.problem or error.context or "invalid yaml").strip()
    message = lowercase_first(re.sub(r'"([^"]*)"', r"`\1`", problem))
    return Diagnostic(code, f"not valid yaml: {message}", file, line, column)


def _read_round_trip(text: str, file: str, kind: FileKind = FileKind.PACK) -> Located | Diagnostic:
    codes = kind.codes
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        refused = refuse_non_plain(yaml.parse(text), file, kind)
        if refused is not None:
            return refused
        with warnings.catch_warnings():  # a re-used anchor is legal yaml: no stderr noise
            warnings.simplefilter("ignore")
            root = yaml.load(text)
    except MarkedYAMLError as error:
        return _yaml_problem(error, text, file, codes)
    except Exception as error:  # ruamel raises several unrelated types for bad input
        return Diagnostic(codes.yaml, f"not readable as yaml: {error}", file, 1, 1)
    walk = _Walk()
    try:
        data = walk.plain(root, ())
    except _TooBig:
        return Diagnostic(
            codes.too_large,
            f"the data expands to more than {MAX_NODES:,} values through its aliases",
            file,
            1,
            1,
            "use anchors and aliases only to repeat small parts",
        )
    # Tags were refused by the pre-scan, before anything was built.
    return Located(file, data, walk.keys, walk.values)
