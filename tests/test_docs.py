"""The docs stay true: generated pages are current, and the new-area walkthrough works."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.mark.parametrize("page", ["reference", "cli", "scenarios", "errors"])
def test_generated_pages_are_current(page: str) -> None:
    generator = runpy.run_path(str(DOCS / "gen_reference.py"))
    expected = generator[page]()
    committed = (DOCS / f"{page}.md").read_text(encoding="utf-8")
    assert committed == expected, f"docs/{page}.md is stale: run `python docs/gen_reference.py`"


def test_every_fact_operator_and_trigger_is_in_the_reference() -> None:
    from failedcontact.pack.conditions import OPERATORS
    from failedcontact.pack.facts import FACTS
    from failedcontact.pack.references import TRIGGERS

    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    missing = [name for name in (*FACTS, *OPERATORS, *TRIGGERS) if f"`{name}`" not in text]
    assert not missing


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "failedcontact", *args], capture_output=True,
                          text=True, cwd=ROOT, check=False)  # fmt: skip


def test_adding_an_area_as_the_guide_says_needs_no_python(tmp_path: Path) -> None:
    """Follow docs/policy-leads.md: copy the closest pack, rename, add scenarios, check."""
    text = (ROOT / "policies" / "pan_beds.yaml").read_text(encoding="utf-8")
    pack = tmp_path / "west_shire.yaml"
    pack.write_text(
        text.replace("pan_beds", "west_shire")
        .replace("area: Pan Bedfordshire (Bedford Borough, Central Bedfordshire, Luton)",
                 "area: West Shire")
        .replace("version: 1.0.0", "version: 1.0.0"),
        encoding="utf-8",
    )  # fmt: skip
    scenarios = tmp_path / "tests" / "west_shire"
    scenarios.mkdir(parents=True)
    for source in sorted((ROOT / "policies" / "tests" / "pan_beds").glob("*.yaml")):
        copied = scenarios / source.name
        copied.write_text(
            source.read_text(encoding="utf-8")
            .replace("pack: pan_beds", f"pack: {pack}")
            .replace("pan_beds ", "west_shire ")
            .replace("pan_beds.", "west_shire."),
            encoding="utf-8",
        )
    check = _cli("check", "--strict", str(pack))
    assert check.returncode == 0, check.stdout + check.stderr
    run = _cli("test", "--min-coverage", "100", str(scenarios))
    assert run.returncode == 0, run.stdout + run.stderr
    assess = _cli("assess", "--pack", str(pack), "--as-of", "2026-11-25T09:00:00Z",
                  str(ROOT / "examples" / "second_no_access.json"))  # fmt: skip
    assert assess.returncode == 0 and '"id":"west_shire"' in assess.stdout.replace(" ", "")


def _emitted_codes() -> set[str]:
    """Every diagnostic code the source can emit, literal or built from a prefix."""
    import re

    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")
                       if p.name != "codes.py")  # fmt: skip
    found = set(re.findall(r'"((?:pack|analysis|scenario)\.[a-z-]+)"', source))
    # built as f"{prefix}.<name>" for both packs and scenario files
    for name in re.findall(r'f"\{prefix\}\.([a-z-]+)"', source):
        found |= {f"pack.{name}", f"scenario.{name}"}
    # a scenario file's YAML problems are the pack reader's, renamed
    reader = (ROOT / "src" / "failedcontact" / "pack" / "reader.py").read_text(encoding="utf-8")
    found |= {c.replace("pack.", "scenario.") for c in re.findall(r'"(pack\.[a-z-]+)"', reader)}
    return found


def test_every_emitted_code_is_in_the_catalogue_and_every_listed_code_is_emitted() -> None:
    from failedcontact.codes import CODES

    emitted = _emitted_codes()
    assert emitted - set(CODES) == set(), "codes missing from failedcontact/codes.py"
    assert set(CODES) - emitted == set(), "codes listed but never emitted"
    assert all(meaning.endswith(".") for meaning in CODES.values())
