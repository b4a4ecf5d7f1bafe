"""Wheel build hook: compile the engine's hot modules with mypyc, else ship pure Python.

The compiled modules give the same answers as the Python ones (CI runs the tests on both);
they are about a fifth faster per case. A machine without a C compiler still installs: the
build says why it fell back and the wheel is pure Python. `FAILEDCONTACT_BUILD` chooses:
`auto` (the default), `pure` (never compile) or `compiled` (fail rather than fall back).
Editable installs are always pure Python, so edits to the source take effect.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _compiled_modules(source: Path) -> tuple[str, ...]:
    """The compiled set as paths under `source`, read from `_compiled.py` without importing it."""
    tree = ast.parse((source / "failedcontact" / "_compiled.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", "") == "COMPILED_MODULES"
        ):
            names = ast.literal_eval(node.value)
            return tuple(name.replace(".", "/") + ".py" for name in names)
    raise CompileError("src/failedcontact/_compiled.py declares no COMPILED_MODULES")


# Each module compiled on its own (`separate`), so that the C compiles run in parallel: as
# fast per case as one shared library, and built in half the time.
_SETUP = """\
import os

from setuptools import setup
from mypyc.build import mypycify

setup(
    name="failedcontact-compiled",
    ext_modules=mypycify({modules!r}, opt_level="3", separate=True),
    script_args=["build_ext", "--inplace", "--parallel", str(os.cpu_count() or 1)],
)
"""
# mypyc type-checks the package first: with pydantic's plugin, as the project's own check
# does; optional extras (FastAPI, Arrow, ...) are not installed where the wheel is built.
_MYPY_INI = """\
[mypy]
plugins = pydantic.mypy
ignore_missing_imports = True
"""
_MODES = ("auto", "pure", "compiled")


class CompileError(Exception):
    """mypyc could not build the compiled modules."""


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled modules to a wheel, next to their Python sources."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        mode = os.environ.get("FAILEDCONTACT_BUILD", "auto").strip().lower() or "auto"
        if mode not in _MODES:
            raise ValueError(f"FAILEDCONTACT_BUILD is `{mode}`; expected one of {_MODES}")
        if self.target_name != "wheel" or version == "editable" or mode == "pure":
            return
        self._work = Path(tempfile.mkdtemp(prefix="failedcontact-mypyc-"))
        try:
            built = compile_modules(Path(self.root) / "src", self._work)
        except CompileError as error:
            if mode == "compiled":
                raise
            self.app.display_warning(
                f"failedcontact: building pure Python, since mypyc failed ({error}); "
                "answers are the same, about a fifth slower"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        for path, inside in built.items():
            build_data["force_include"][str(path)] = inside
        self.app.display_info(f"failedcontact: compiled {', '.join(sorted(built.values()))}")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def compile_modules(source: Path, work: Path) -> dict[Path, str]:
    """Compile the compiled set from a copy of `source` in `work`: each library and its path."""
    compiled = _compiled_modules(source)
    copy = work / "src"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    (copy / "mypy.ini").write_text(_MYPY_INI)
    (copy / "setup.py").write_text(_SETUP.format(modules=list(compiled)))
    try:
        done = subprocess.run(
            [sys.executable, "setup.py"],
            cwd=copy,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CompileError(str(error)) from error
    if done.returncode != 0:
        last = (done.stdout + done.stderr).strip().splitlines()[-12:]
        raise CompileError("\n".join(last))
    # `build_ext --inplace` leaves two libraries beside each module: the module, and the
    # compiled code it loads (`<module>__mypyc`); build/ holds copies, not taken.
    built = {
        path: path.relative_to(copy).as_posix() for path in (copy / "failedcontact").rglob("*.so")
    }
    found = {inside.split(".")[0] for inside in built.values()}
    wanted = {name for module in compiled for name in (module[:-3], f"{module[:-3]}__mypyc")}
    if found != wanted:
        raise CompileError(f"mypyc built {sorted(found)}; expected {sorted(wanted)}")
    return built
