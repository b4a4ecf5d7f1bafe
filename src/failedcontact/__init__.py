"""Local child-safeguarding guidance on failed contacts as YAML policy packs and a typed engine."""

from ._version import __version__ as __version__
from .assessment import Assessment
from .calendar import WorkingCalendar
from .case import Case
from .case_input import parse_case
from .errors import CaseError, Diagnostic, FailedContactError, PackError
from .loader import Pack, check_file, load_pack
from .locate import bundled_ids

__all__ = [
    "Assessment",
    "Case",
    "CaseError",
    "Diagnostic",
    "FailedContactError",
    "Pack",
    "PackError",
    "WorkingCalendar",
    "bundled_ids",
    "check_file",
    "load_pack",
    "parse_case",
]
