"""The fast pack reader (safe loader, libyaml) agrees with the round-trip reader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from failedcontact.errors import Diagnostic
from failedcontact.source.reader import Located, _read_plain, _read_round_trip, read_yaml

ROOT = Path(__file__).resolve().parent.parent
PACK_FILES = sorted(
    p
    for folder in ("policies", "docs", "examples", "tests/data")
    for p in (ROOT / folder).rglob("*.yaml")
)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@pytest.mark.parametrize("path", PACK_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_readers_give_the_same_data_and_locations(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    slow = _read_round_trip(text, "f.yaml")
    fast = _read_plain(text, "f.yaml")
    if fast is None:
        # left to the round-trip reader: only files that reader also refuses, or that
        # hold something the fast one does not build (a duplicate key, a tag)
        assert not hasattr(slow, "data") or "duplicate" in text or "!" in text
        return
    assert isinstance(slow, Located), slow
    assert fast.data == slow.data
    assert dict(fast.keys) == dict(slow.keys)
    # An empty value (null) is located where it is empty, on its key's line, by libyaml,
    # and at the next token by the pure reader; every other location is the same.
    differ = {p for p in slow.values if fast.values.get(p) != slow.values[p]}
    assert all(_at(slow.data, p) is None for p in differ), sorted(differ, key=str)[:3]


def test_bundled_packs_take_the_fast_reader() -> None:
    for name in ("north_lincs", "pan_beds", "derbyshire", "suffolk", "ne_lincs"):
        text = (ROOT / "policies" / f"{name}.yaml").read_text(encoding="utf-8")
        assert _read_plain(text, name) is not None, name


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("a: 1\na: 2\n", "pack.duplicate-key", (2, 1)),
        ("a: !!python/object:os.system x\n", "pack.yaml", (1, 4)),
        ("a: [1, 2\n", "pack.yaml", (1, 4)),  # at the `[` that is never closed
        ("<<: {a: 1}\n", "pack.yaml", (1, 1)),
    ],
    ids=["duplicate key", "tag", "unclosed list", "merge key"],
)
def test_problems_are_explained_by_the_round_trip_reader(
    text: str, code: str, where: tuple[int, int]
) -> None:
    found = read_yaml(text, "f.yaml")
    assert isinstance(found, Diagnostic)
    assert (found.code, (found.line, found.column)) == (code, where)


# --- one reader for every kind of file --------------------------------------------------------


def _pack_problems(path: Path) -> list[Diagnostic]:
    from failedcontact import load_pack
    from failedcontact.errors import PackError

    with pytest.raises(PackError) as raised:
        load_pack(path)
    return list(raised.value.diagnostics)


def _scenario_problems(path: Path) -> list[Diagnostic]:
    from failedcontact.errors import ScenarioFileError
    from failedcontact.testing.scenarios import load_scenarios

    with pytest.raises(ScenarioFileError) as raised:
        load_scenarios(path)
    return list(raised.value.diagnostics)


def _mapping_problems(path: Path) -> list[Diagnostic]:
    from failedcontact.interop.mapping import check_mapping

    found = check_mapping(path)
    assert isinstance(found, list), found
    return found


MISSING = [
    ("pack", _pack_problems, "error[pack.not-found]: no pack file `{}`"),
    ("scenario", _scenario_problems, "error[scenario.unreadable]: no scenario file `{}`"),
    ("mapping", _mapping_problems, "error[mapping.not-found]: no mapping file `{}`"),
]


@pytest.mark.parametrize(("load", "wanted"), [m[1:] for m in MISSING], ids=[m[0] for m in MISSING])
def test_a_missing_file_of_any_kind_is_named_at_no_line(
    load: Callable[[Path], list[Diagnostic]], wanted: str, tmp_path: Path
) -> None:
    path = tmp_path / "gone.yaml"
    [diagnostic] = load(path)
    assert diagnostic.render() == wanted.format(path)
    assert (diagnostic.line, diagnostic.column) == (0, 0)  # not a place in a file
    assert "Errno" not in diagnostic.message


# what each kind's reading problems are called: (kind, problem) -> code
READ_CODES = {
    ("pack", "missing"): "pack.not-found",
    ("pack", "folder"): "pack.not-found",
    ("pack", "not-utf8"): "pack.not-a-pack",
    ("pack", "syntax"): "pack.yaml",
    ("pack", "tag"): "pack.yaml",
    ("pack", "duplicate"): "pack.duplicate-key",
    ("pack", "deep"): "pack.too-large",
    ("scenario", "missing"): "scenario.unreadable",
    ("scenario", "folder"): "scenario.unreadable",
    ("scenario", "not-utf8"): "scenario.unreadable",
    ("scenario", "syntax"): "scenario.yaml",
    ("scenario", "tag"): "scenario.yaml",
    ("scenario", "duplicate"): "scenario.duplicate-key",
    ("scenario", "deep"): "scenario.too-large",
    ("mapping", "missing"): "mapping.not-found",
    ("mapping", "folder"): "mapping.not-found",
    ("mapping", "not-utf8"): "mapping.not-found",
    ("mapping", "syntax"): "mapping.yaml",
    ("mapping", "tag"): "mapping.yaml",
    ("mapping", "duplicate"): "mapping.duplicate-key",
    ("mapping", "deep"): "mapping.too-large",
}
# what is at the path: None for nothing, a str for a folder of that name, else the bytes;
# then the message and whether it is at a place in the file
PROBLEMS: dict[str, tuple[bytes | str | None, str, bool]] = {
    "missing": (None, "no {kind} file `{path}`", False),
    "folder": ("folder", "`{path}` is not a regular file", False),
    "not-utf8": (b"a: \xff\n", "`{path}` is not UTF-8 text (byte 4)", False),
    "syntax": (b"a: [1, 2\n", "is not closed with `]`", True),
    "tag": (b"a: !!python/object:os.system x\n", "yaml tag", True),
    "duplicate": (b"a: 1\na: 2\n", "appears twice in one mapping", True),
    "deep": (b"a: " + b"[" * 100 + b"]" * 100 + b"\n", "nested more than", True),
}


@pytest.mark.parametrize(
    ("kind", "problem", "code"),
    [(*key, code) for key, code in READ_CODES.items()],
    ids=[f"{kind}-{problem}" for kind, problem in READ_CODES],
)
def test_each_kind_of_file_has_its_own_codes_for_reading_problems(
    kind: str, problem: str, code: str, tmp_path: Path
) -> None:
    from failedcontact.source.reader import FileKind, read_source

    content, message, located = PROBLEMS[problem]
    path = tmp_path / "f.yaml"
    if isinstance(content, str):
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    found = read_source(FileKind(kind), path)
    assert isinstance(found, Diagnostic)
    assert found.code == code, found.render()
    assert message.format(kind=kind, path=path) in found.message, found.render()
    assert found.located is located and found.file == str(path)
    if located and isinstance(content, bytes):  # the same text, given as text, reads the same
        assert found == read_source(FileKind(kind), path, text=content.decode())


def test_read_yaml_still_reads_a_pack_by_default() -> None:
    from failedcontact.source.reader import FileKind

    found = read_yaml("a: 1\na: 2\n", "f.yaml")
    assert isinstance(found, Diagnostic) and found.code == "pack.duplicate-key"
    found = read_yaml("a: 1\na: 2\n", "f.yaml", FileKind.MAPPING)
    assert isinstance(found, Diagnostic) and found.code == "mapping.duplicate-key"


# --- yaml mistakes in plain words, at the line of the mistake (issue 30) ----------------------

MISTAKES = [
    pytest.param("id: x\ntitle hello\narea: y\n", (2, 1),
                 "`title hello` has no `:` after its key",
                 "write a key, a colon and a space before the value: `title: hello`",
                 id="missing-colon"),
    pytest.param("a:\n  b: 1\n c: 2\n", (3, 2),
                 "`c: 2` is indented by 1 space, which lines it up with no key above it",
                 "indent it like the keys it belongs with (the lines above use 0, 2)",
                 id="dedented-key"),
    pytest.param("a:\n  b: 1\n    c: 2\n", (3, 5),
                 "`c: 2` is indented under a key that already has a value",
                 "line it up with the keys it belongs with", id="over-indented-key"),
    pytest.param("a:\n  - 1\n  b: 2\n", (3, 3),
                 "`b: 2` is among the items of a list but does not start with `- `",
                 "start it with `- ` to make it an item, or indent it under one",
                 id="key-among-list-items"),
    pytest.param("a:\n\tb: 1\n", (2, 1), "a tab character: yaml indents with spaces only",
                 "replace the tab with spaces (two for each level)", id="tab"),
    pytest.param("phone: 01632960123\n", (1, 8),
                 "`01632960123` starts with a zero, so yaml reads it as the number 1632960123",
                 'quote it to keep it as written: `"01632960123"`', id="leading-zero"),
    pytest.param("a:\n  - {phone: 01632960123}\n", (2, 13),
                 "`01632960123` starts with a zero, so yaml reads it as the number 1632960123",
                 'quote it to keep it as written: `"01632960123"`', id="leading-zero-in-flow"),
    pytest.param("a:\n  x: 1\n  y: 2\n  x: 3\n", (4, 3),
                 "key `x` appears twice in one mapping (first on line 2)",
                 "each key may appear once in a mapping: remove one, or merge the two",
                 id="duplicate-key"),
    pytest.param("a: [1, 2\nb: 3\n", (1, 4), "the `[` here is not closed with `]`",
                 "end the list with `]` on the same line, or write it as a block",
                 id="unclosed-list"),
    pytest.param('a: "abc\nb: 2\n', (1, 4), 'the text quoted with `"` here is never closed',
                 'end the text with `"` on the same line', id="unclosed-quote"),
    pytest.param("title: Visits: a guide\n", (1, 8),
                 "the text `Visits: a guide` holds `: `, which yaml reads as another key",
                 'quote the text: `title: "Visits: a guide"`', id="colon-in-text"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "where", "message", "help"), MISTAKES)
def test_a_yaml_mistake_is_named_in_plain_words_at_its_line(
    text: str, where: tuple[int, int], message: str, help: str
) -> None:
    found = read_yaml(text, "f.yaml")
    assert isinstance(found, Diagnostic), found
    assert (found.line, found.column) == where
    assert found.message == message
    assert found.help == help
    for internal in ("<block", "token", "expected ':'", "scanning"):
        assert internal not in found.message


def test_quoted_and_ordinary_numbers_are_not_leading_zeros() -> None:
    found = read_yaml('phone: "01632960123"\nn: 0\nm: 10\nt: 0.5\n', "f.yaml")
    assert isinstance(found, Located)
    assert found.data == {"phone": "01632960123", "n": 0, "m": 10, "t": 0.5}
