"""The fast pack reader (safe loader, libyaml) agrees with the round-trip reader."""

from __future__ import annotations

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
