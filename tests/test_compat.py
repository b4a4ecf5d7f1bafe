"""The module paths of release 0.1 still import, as the moved modules themselves, with a warning."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

from failedcontact._compat import MOVED


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()), ids=sorted(MOVED))
def test_an_old_path_is_the_new_module_and_warns(old: str, new: str) -> None:
    if new.startswith(("failedcontact.service", "failedcontact.interop.spark")):
        pytest.importorskip("fastapi" if "service" in new else "pyspark")
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"`{old}` moved to `{new}`"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_documented_old_imports_still_work() -> None:
    """The names docs of release 0.1 imported, by their old paths."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old_fhir = importlib.import_module("failedcontact.fhir")
        old_locate = importlib.import_module("failedcontact.locate")
    from failedcontact.interop import fhir
    from failedcontact.source import locate

    assert old_fhir.map_bundle is fhir.map_bundle
    assert old_locate.resolve_pack is locate.resolve_pack


def test_a_path_that_never_existed_is_still_an_import_error() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("failedcontact.no_such_module")
