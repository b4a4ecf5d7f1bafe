"""YAML mistakes in a policy lead's words, at the line of the mistake.

The parser says "could not find expected ':'" on the line after a key without its colon,
and "expected <block end>, but found '<block mapping start>'" for a dedented key. `explain`
turns each such error into what went wrong on which line and how to write it instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_KEY = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[^\s:#][^:#]*?)\s*:(\s|$)")
_LEADING_ZERO = re.compile(r"^[+-]?0[0-9]+$")


@dataclass(frozen=True, slots=True)
class Plain:
    """A YAML problem as a policy lead reads it: where, what, and how to fix it."""

    line: int  # 1-based
    column: int  # 1-based
    message: str
    help: str | None


def _mark(mark: Any) -> tuple[int, int] | None:
    return (mark.line, mark.column) if mark is not None else None


def _snippet(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def explain(error: Any, text: str) -> Plain | None:
    """The plain-words form of a ruamel `MarkedYAMLError` on `text`, or None for one this
    does not know (the caller keeps the parser's own words)."""
    lines = text.splitlines() or [""]
    problem = str(getattr(error, "problem", "") or "")
    context = str(getattr(error, "context", "") or "")
    at = _mark(getattr(error, "problem_mark", None))
    start = _mark(getattr(error, "context_mark", None))
    if at is None:
        return None
    for explainer in (_tab, _missing_colon, _duplicate, _unclosed, _colon_in_text, _indentation):
        found = explainer(problem, context, at, start, lines)
        if found is not None:
            return found
    return None


Marks = tuple[int, int]


def _line(lines: list[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


def _tab(
    problem: str, _context: str, at: Marks, _start: Marks | None, lines: list[str]
) -> Plain | None:
    if "'\\t'" not in problem:
        return None
    line = _line(lines, at[0])
    column = line.find("\t") + 1 or at[1] + 1
    return Plain(
        at[0] + 1,
        column,
        "a tab character: yaml indents with spaces only",
        "replace the tab with spaces (two for each level)",
    )


def _missing_colon(
    problem: str, context: str, at: Marks, start: Marks | None, lines: list[str]
) -> Plain | None:
    if "could not find expected ':'" not in problem or start is None:
        return None
    line = _line(lines, start[0])
    written = line.strip()
    key, _, rest = written.partition(" ")
    fixed = f"{key}: {rest}" if rest else f"{key}:"
    return Plain(
        start[0] + 1,
        start[1] + 1,
        f"`{_snippet(written)}` has no `:` after its key",
        f"write a key, a colon and a space before the value: `{_snippet(fixed)}`",
    )


def _duplicate(
    problem: str, context: str, at: Marks, start: Marks | None, lines: list[str]
) -> Plain | None:
    found = re.match(r'found duplicate key "(?P<key>[^"]*)"', problem)
    if found is None:
        return None
    key = found["key"]
    indent = len(_line(lines, at[0])) - len(_line(lines, at[0]).lstrip())
    pattern = re.compile(rf"^ {{{indent}}}(- +)?[\"']?{re.escape(key)}[\"']?\s*:")
    first = next(
        (i for i in range(start[0] if start else 0, at[0]) if pattern.match(lines[i])), None
    )
    where = f" (first on line {first + 1})" if first is not None else ""
    return Plain(
        at[0] + 1,
        at[1] + 1,
        f"key `{key}` appears twice in one mapping{where}",
        "each key may appear once in a mapping: remove one, or merge the two",
    )


def _unclosed(
    problem: str, context: str, at: Marks, start: Marks | None, lines: list[str]
) -> Plain | None:
    if start is None:
        return None
    pairs = {"flow sequence": ("[", "]"), "flow mapping": ("{", "}")}
    for name, (opening, closing) in pairs.items():
        if name in context:
            return Plain(
                start[0] + 1,
                start[1] + 1,
                f"the `{opening}` here is not closed with `{closing}`",
                f"end the {'list' if opening == '[' else 'mapping'} with `{closing}` "
                "on the same line, or write it as a block",
            )
    if "quoted scalar" in context:
        quote = _line(lines, start[0])[start[1] : start[1] + 1] or '"'
        return Plain(
            start[0] + 1,
            start[1] + 1,
            f"the text quoted with `{quote}` here is never closed",
            f"end the text with `{quote}` on the same line",
        )
    return None


def _colon_in_text(
    problem: str, context: str, at: Marks, start: Marks | None, lines: list[str]
) -> Plain | None:
    if "mapping values are not allowed here" not in problem:
        return None
    line = _line(lines, at[0])
    key = _KEY.match(line)
    if key is None or key.end() > at[1]:
        return None  # the colon is the line's first: an indentation mistake
    value = line[key.end() :].strip()
    return Plain(
        at[0] + 1,
        key.end() + 1,
        f"the text `{_snippet(value)}` holds `: `, which yaml reads as another key",
        f'quote the text: `{key["key"]}: "{_snippet(value)}"`',
    )


def _indentation(
    problem: str, context: str, at: Marks, start: Marks | None, lines: list[str]
) -> Plain | None:
    block = "expected <block end>" in problem or "mapping values are not allowed" in problem
    if not block:
        return None
    index = at[0]
    line = _line(lines, index)
    indent = len(line) - len(line.lstrip(" "))
    above = [_line(lines, i) for i in range(index)]
    used = sorted(
        {len(a) - len(a.lstrip(" ")) for a in above if a.strip() and not a.lstrip().startswith("#")}
    )
    shown = _snippet(line)
    if "mapping values" in problem:
        return Plain(
            index + 1,
            indent + 1,
            f"`{shown}` is indented under a key that already has a value",
            "line it up with the keys it belongs with",
        )
    previous = next((a for a in reversed(above) if a.strip()), "")
    if previous.lstrip().startswith("- ") and not line.lstrip().startswith("- "):
        return Plain(
            index + 1,
            indent + 1,
            f"`{shown}` is among the items of a list but does not start with `- `",
            "start it with `- ` to make it an item, or indent it under one",
        )
    levels = ", ".join(str(u) for u in used if u != indent) or "0"
    spaces = f"{indent} space{'s' if indent != 1 else ''}"
    return Plain(
        index + 1,
        indent + 1,
        f"`{shown}` is indented by {spaces}, which lines it up with no key above it",
        f"indent it like the keys it belongs with (the lines above use {levels})",
    )


def leading_zero(value: str) -> tuple[str, str] | None:
    """The message and help for an unquoted number with a leading zero (a phone number read
    as `1632960123`), or None."""
    if not _LEADING_ZERO.match(value):
        return None
    number = str(int(value))
    return (
        f"`{value}` starts with a zero, so yaml reads it as the number {number}",
        f'quote it to keep it as written: `"{value}"`',
    )
