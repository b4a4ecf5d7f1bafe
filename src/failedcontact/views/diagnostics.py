"""Diagnostics as a policy lead reads them: in line order, each with its line quoted and a
caret under the place, as the best compilers print them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..errors import Diagnostic


def in_line_order(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics by file, then line and column; those at no line (about the whole
    file) first. Stable: two at one place keep the order they were found in."""
    return sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))


def excerpt(diagnostic: Diagnostic, text: str) -> str | None:
    """The diagnostic's line quoted with a caret under its column, or None when it is at no
    line or past the end of the text."""
    lines = text.splitlines()
    if not diagnostic.located or diagnostic.line > len(lines):
        return None
    # a tab is shown as one space so the caret stays under its character
    line = lines[diagnostic.line - 1].replace("\t", " ").rstrip()
    number = str(diagnostic.line)
    gutter = " " * len(number)
    column = min(max(diagnostic.column, 1), len(line) + 1)
    return f"  {number} | {line}\n  {gutter} | {' ' * (column - 1)}^"


def render_with_source(diagnostic: Diagnostic, text: str | None) -> str:
    """`file:line:col: severity[code]: message`, the line quoted with a caret, then the help."""
    shown = excerpt(diagnostic, text) if text is not None else None
    if shown is None:
        return diagnostic.render()
    head, _, rest = diagnostic.render().partition("\n")
    return f"{head}\n{shown}" + (f"\n{rest}" if rest else "")


def render_all(diagnostics: Iterable[Diagnostic], read: Callable[[str], str | None]) -> str:
    """Every diagnostic in line order with its excerpt; `read` gives a file's text (None
    when it cannot be read again), and each file is read once."""
    texts: dict[str, str | None] = {}
    out = []
    for diagnostic in in_line_order(diagnostics):
        if diagnostic.file not in texts:
            texts[diagnostic.file] = read(diagnostic.file) if diagnostic.located else None
        out.append(render_with_source(diagnostic, texts[diagnostic.file]))
    return "\n".join(out)
