"""The pack reference in docs/ names every fact and operator the compiler accepts."""

from __future__ import annotations

from pathlib import Path

from failedcontact.pack.conditions import OPERATORS
from failedcontact.pack.facts import FACTS
from failedcontact.pack.references import TRIGGERS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_fact_operator_and_trigger_is_documented() -> None:
    text = (DOCS / "packs.md").read_text(encoding="utf-8")
    missing = [name for name in (*FACTS, *OPERATORS, *TRIGGERS) if f"`{name}`" not in text]
    assert not missing, f"document these in docs/packs.md: {missing}"
