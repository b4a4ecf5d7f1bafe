"""The installed build (compiled with mypyc, or pure Python) and the wheel build hook."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from failedcontact.engine.build import engine_build

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    "FAILEDCONTACT_EXPECT_BUILD" not in os.environ,
    reason="CI names the build it installed in FAILEDCONTACT_EXPECT_BUILD",
)
def test_the_tests_run_on_the_build_ci_meant_to_test() -> None:
    # CI runs the suite twice, on the compiled install and on the Python sources: this
    # makes sure neither run quietly tested the other build.
    assert engine_build() == os.environ["FAILEDCONTACT_EXPECT_BUILD"]


def _wheel(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )


@pytest.mark.slow
def test_without_a_c_compiler_the_wheel_is_pure_python(tmp_path: Path) -> None:
    built = _wheel(tmp_path, CC="/bin/false")  # setuptools compiles with $CC
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "failedcontact/engine/evaluate.py" in names
    assert not [name for name in names if name.endswith(".so")]


@pytest.mark.slow
def test_a_compiled_build_that_cannot_compile_fails_instead(tmp_path: Path) -> None:
    built = _wheel(tmp_path, CC="/bin/false", FAILEDCONTACT_BUILD="compiled")
    assert built.returncode != 0
    assert "CompileError" in built.stdout + built.stderr
    assert not list(tmp_path.glob("*.whl"))


@pytest.mark.slow
def test_an_unknown_build_choice_is_refused(tmp_path: Path) -> None:
    built = _wheel(tmp_path, FAILEDCONTACT_BUILD="fastest")
    assert built.returncode != 0
    assert "FAILEDCONTACT_BUILD is `fastest`" in built.stdout + built.stderr
