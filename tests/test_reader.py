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
        ("a: [1, 2\n", "pack.yaml", (2, 1)),
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
    "syntax": (b"a: [1, 2\n", "expected", True),
    "tag": (b"a: !!python/object:os.system x\n", "yaml tag", True),
    "duplicate": (b"a: 1\na: 2\n", "duplicate key", True),
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
