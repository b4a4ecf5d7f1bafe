"""Local child-safeguarding guidance on failed contacts as YAML policy packs and a typed engine."""

from . import _compat
from ._version import __version__ as __version__
from .engine.loader import Pack, check_file, load_pack
from .errors import (
    BackendUnavailable,
    CaseError,
    Diagnostic,
    FailedContactError,
    PackError,
    UnknownPackError,
    UsageError,
)
from .model.assessment import Assessment
from .model.calendar import WorkingCalendar
from .model.case import Case
from .model.case_input import parse_case
from .source.locate import bundled_ids

_compat.install()

__all__ = [
    "Assessment",
    "BackendUnavailable",
    "Case",
    "CaseError",
    "Diagnostic",
    "FailedContactError",
    "Pack",
    "PackError",
    "UnknownPackError",
    "UsageError",
    "WorkingCalendar",
    "bundled_ids",
    "check_file",
    "load_pack",
    "parse_case",
]
