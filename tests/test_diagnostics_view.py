"""Diagnostics in line order, each with its line quoted and a caret (issue 30)."""

from __future__ import annotations

import pytest

from failedcontact.errors import Diagnostic, Severity
from failedcontact.source.reader import read_yaml
from failedcontact.views.diagnostics import in_line_order, render_all, render_with_source

QUOTED = [
    pytest.param(
        "id: x\ntitle hello\narea: y\n",
        "f.yaml:2:1: error[pack.yaml]: `title hello` has no `:` after its key\n"
        "  2 | title hello\n"
        "    | ^\n"
        "  help: write a key, a colon and a space before the value: `title: hello`",
        id="missing-colon",
    ),
    pytest.param(
        "a:\n\tb: 1\n",
        "f.yaml:2:1: error[pack.yaml]: a tab character: yaml indents with spaces only\n"
        "  2 |  b: 1\n"
        "    | ^\n"
        "  help: replace the tab with spaces (two for each level)",
        id="tab",
    ),
    pytest.param(
        "contacts:\n  phone: 01632960123\n",
        "f.yaml:2:10: error[pack.yaml]: `01632960123` starts with a zero, so yaml reads it as "
        "the number 1632960123\n"
        "  2 |   phone: 01632960123\n"
        "    |          ^\n"
        '  help: quote it to keep it as written: `"01632960123"`',
        id="leading-zero",
    ),
]


@pytest.mark.parametrize(("text", "shown"), QUOTED)
def test_the_line_is_quoted_with_a_caret(text: str, shown: str) -> None:
    found = read_yaml(text, "f.yaml")
    assert isinstance(found, Diagnostic)
    assert render_with_source(found, text) == shown


def _at(line: int, column: int = 1, file: str = "p.yaml") -> Diagnostic:
    return Diagnostic("pack.schema", f"at {line}", file, line, column, None, Severity.ERROR)


def test_diagnostics_come_in_line_order() -> None:
    found = [_at(248), _at(76, 15), _at(9), _at(76, 3), _at(0, 0)]
    assert [(d.line, d.column) for d in in_line_order(found)] == [
        (0, 0), (9, 1), (76, 3), (76, 15), (248, 1)]  # fmt: skip


def test_render_all_reads_each_file_once_and_survives_a_missing_one() -> None:
    reads: list[str] = []

    def read(file: str) -> str | None:
        reads.append(file)
        return "one\ntwo\n" if file == "p.yaml" else None

    text = render_all([_at(2, 2), _at(1), _at(1, file="gone.yaml")], read)
    assert text == ("gone.yaml:1:1: error[pack.schema]: at 1\n"
                    "p.yaml:1:1: error[pack.schema]: at 1\n  1 | one\n    | ^\n"
                    "p.yaml:2:2: error[pack.schema]: at 2\n  2 | two\n    |  ^")  # fmt: skip
    assert reads == ["gone.yaml", "p.yaml"]
