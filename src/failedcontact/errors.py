"""The library's one error hierarchy and the diagnostics it carries."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How serious a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a pack, with a stable code and a 1-based location."""

    code: str
    message: str
    file: str
    line: int
    column: int
    help: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def located(self) -> bool:
        """False for a problem that is not at a place in a file (line 0): an unknown pack id."""
        return self.line > 0

    def render(self) -> str:
        """Format as `file:line:col: severity[code]: message`, with the help on its own line."""
        text = f"{self.severity}[{self.code}]: {self.message}"
        if self.located:
            text = f"{self.file}:{self.line}:{self.column}: {text}"
        if self.help:
            text += f"\n  help: {self.help}"
        return text

    def as_dict(self) -> dict[str, object]:
        """Return the diagnostic as plain JSON-ready data."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.file if self.located else None,
            "line": self.line if self.located else None,
            "column": self.column if self.located else None,
            "help": self.help,
        }


@dataclass(frozen=True, slots=True)
class CaseIssue:
    """One problem in case input: the field path and what was expected."""

    path: str
    message: str

    def render(self) -> str:
        """Format as `path: message`."""
        return f"{self.path}: {self.message}" if self.path else self.message


class FailedContactError(Exception):
    """Base class of every error this library raises on purpose."""


class CaseError(FailedContactError, ValueError):
    """The case input is invalid; each issue names the field path."""

    def __init__(self, issues: Sequence[CaseIssue]) -> None:
        self.issues: tuple[CaseIssue, ...] = tuple(issues)
        super().__init__("invalid case: " + "; ".join(i.render() for i in self.issues))


class DiagnosticError(FailedContactError):
    """An error that carries every diagnostic found, not just the first (one a line)."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))


class PackError(DiagnosticError):
    """A pack could not be loaded; carries every diagnostic found, not just the first."""


class ScenarioFileError(DiagnosticError):
    """A scenario file is malformed (not a failure of the pack it tests); every problem found."""


class MappingError(DiagnosticError):
    """A mapping file could not be loaded; carries every diagnostic found."""


class UsageError(FailedContactError, ValueError):
    """A library function was called with an argument it cannot use."""


class InputError(FailedContactError):
    """An input file cannot be read as what it claims to be (a Parquet file that is not one)."""


class UnknownPackError(PackError):
    """The pack id names no bundled pack and no such file exists."""


class BackendUnavailable(FailedContactError):
    """The requested backend's optional dependency is not installed."""


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return a "did you mean `x`?" help line for the closest choice, if one is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def lowercase_first(text: str) -> str:
    """A message in the house style: a lowercase first letter, user input left as written."""
    return text[:1].lower() + text[1:]


def one_of(choices: Iterable[str]) -> str:
    """Format choices as a backticked, comma-separated list."""
    return ", ".join(f"`{c}`" for c in choices)


_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}
_PICTURES |= {code: "\ufffd" for code in range(0x80, 0xA0)}
_KEEP = {ord("\n"), ord("\t")}


def literal(text: str) -> str:
    """Text safe to print to a terminal: each control character shown as a symbol (ESC as ␛).

    The symbol is one character, so styles laid over the text stay where they were.
    """
    return text.translate({k: v for k, v in _PICTURES.items() if k not in _KEEP})
