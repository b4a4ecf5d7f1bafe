"""The module paths of release 0.1, kept importable for one release with a warning.

The modules moved into one folder per layer (docs/decisions.md, "One folder per layer");
`import failedcontact.fhir` still works and gives `failedcontact.interop.fhir` itself, so
`isinstance` checks and monkeypatching see one module, not a copy.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

# old path -> new path; `engine`, `service` and `cli` kept their names as folders
MOVED: dict[str, str] = {
    "failedcontact.vocabulary": "failedcontact.model.vocabulary",
    "failedcontact.case": "failedcontact.model.case",
    "failedcontact.case_input": "failedcontact.model.case_input",
    "failedcontact.assessment": "failedcontact.model.assessment",
    "failedcontact.calendar": "failedcontact.model.calendar",
    "failedcontact.pack.reader": "failedcontact.source.reader",
    "failedcontact.fmt": "failedcontact.source.fmt",
    "failedcontact.locate": "failedcontact.source.locate",
    "failedcontact.durable": "failedcontact.engine.durable",
    "failedcontact.loader": "failedcontact.engine.loader",
    "failedcontact.pack.describe": "failedcontact.views.describe",
    "failedcontact.pack.diff": "failedcontact.views.diff",
    "failedcontact.render": "failedcontact.views.render",
    "failedcontact.report": "failedcontact.views.report",
    "failedcontact.batch": "failedcontact.runs.batch",
    "failedcontact.decision_log": "failedcontact.runs.decision_log",
    "failedcontact.replay": "failedcontact.runs.replay",
    "failedcontact.releases": "failedcontact.runs.releases",
    "failedcontact.mapping": "failedcontact.interop.mapping",
    "failedcontact.fhir": "failedcontact.interop.fhir",
    "failedcontact.tables": "failedcontact.interop.tables",
    "failedcontact.columnar": "failedcontact.interop.columnar",
    "failedcontact.spark": "failedcontact.interop.spark",
    "failedcontact.scenario_model": "failedcontact.testing.scenario_model",
    "failedcontact.scenarios": "failedcontact.testing.scenarios",
    "failedcontact.verify": "failedcontact.testing.verify",
    "failedcontact.strategies": "failedcontact.testing.strategies",
    "failedcontact.serving": "failedcontact.service.serving",
}


class _Alias(importlib.abc.Loader):
    """Loads an old path as the module at its new path."""

    def __init__(self, new: str) -> None:
        self._new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"`{spec.name}` moved to `{self._new}`; the old path goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(self._new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module at the new path is already loaded."""


class _MovedFinder(importlib.abc.MetaPathFinder):
    """Finds the old module paths of `MOVED`, and nothing else."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Put the finder first on `sys.meta_path`, once."""
    if not any(isinstance(finder, _MovedFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())
