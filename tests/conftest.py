"""Shared fixtures: the bundled North Lincolnshire pack, a minimal pack text to break and the
command line run in process."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner, Result

import failedcontact as fc
from failedcontact.cli import app

ROOT = Path(__file__).resolve().parents[1]
# A small valid pack that tests break in one place at a time.
MINIMAL_PACK = (ROOT / "tests" / "data" / "minimal_pack.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def north_lincs() -> fc.Pack:
    return fc.load_pack("north_lincs")


Cli = Callable[..., Result]


@pytest.fixture()
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run `failedcontact ARGS...` in this process, from the repository's root folder."""
    monkeypatch.chdir(ROOT)

    def run(*args: str, input: str | bytes | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture()
def write_pack(tmp_path: Path) -> Callable[..., str]:
    def write(text: str, name: str = "pack.yaml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


# Property tests: a `quick` profile for the default run (before every commit); CI runs the
# whole suite again with `HYPOTHESIS_PROFILE=ci` and the slow tests; `nightly` for depth.
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
for _name, _examples in (("quick", 6), ("ci", 25), ("nightly", 1000)):
    settings.register_profile(
        _name, max_examples=_examples, deadline=None, suppress_health_check=_QUIET
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))
