"""Installs work as documented: every install line names what exists, and the wheel, built
as docs/integrating.md says, installs with the `service` extra and serves (the container
recipe of docs/service.md without Docker)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
_EXTRAS = set(_PYPROJECT["project"]["optional-dependencies"])


def _install_lines() -> list[tuple[str, str]]:
    return [
        (path.name, line.strip())
        for path in _DOCS
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"pip install\b", line)
    ]


@pytest.mark.parametrize(("doc", "line"), _install_lines())
def test_no_install_line_asks_an_index_for_failedcontact(doc: str, line: str) -> None:
    # failedcontact is on no index: a line installs it from a clone (`.`) or a built wheel
    for args in re.findall(r"pip install((?:\s+[^\s&;#|`]+)+)", line):
        names = [a.strip("'\"") for a in args.split() if not a.startswith("-")]
        assert not [n for n in names if re.fullmatch(r"failedcontact(\[.*\])?", n)], (doc, line)
    for extras in re.findall(r"""['"](?:\.|\$\(ls [^)]*\.whl\))\[([a-z,]+)\]['"]""", line):
        assert set(extras.split(",")) <= _EXTRAS, (doc, line)


def test_the_wheel_metadata_is_complete() -> None:
    project = _PYPROJECT["project"]
    assert project["readme"] == "README.md"
    assert any(
        c.startswith("Programming Language :: Python :: 3.11") for c in project["classifiers"]
    )
    assert "Typing :: Typed" in project["classifiers"]
    assert (ROOT / "src" / "failedcontact" / "py.typed").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_documented_wheel_recipe_installs_and_serves(tmp_path: Path) -> None:
    pytest.importorskip("build")
    env = {"FAILEDCONTACT_BUILD": "pure", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"),
                    str(ROOT)], check=True, capture_output=True, env=env, timeout=600)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("failedcontact-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    assert "Classifier: Typing :: Typed" in metadata
    assert "Description-Content-Type: text/markdown" in metadata
    assert "Provides-Extra: service" in metadata
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"{wheel}[service]"],
                   check=True, capture_output=True, timeout=900)  # fmt: skip
    command = venv / "bin" / "failedcontact"
    example = ROOT / "examples" / "second_no_access.json"
    answer = subprocess.run([str(command), "assess", "--pack", "north_lincs", "--as-of",
                             "2026-11-25T09:00:00+00:00", str(example)],
                            capture_output=True, check=True, timeout=120, cwd=tmp_path)  # fmt: skip
    assert b'"case_id"' in answer.stdout
    port = _free_port()
    server = subprocess.Popen([str(command), "serve", "--port", str(port),
                               "--allow-unauthenticated"], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("the installed service did not come up")
    finally:
        server.terminate()
        server.wait(timeout=30)
