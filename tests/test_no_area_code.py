"""Local differences are pack data: no Python module names an area, landlord, LA or number."""

from __future__ import annotations

import re
from pathlib import Path

import failedcontact as fc

SRC = Path(__file__).resolve().parents[1] / "src"


def _forbidden() -> set[str]:
    words = {"Ongo", "Lincolnshire", "Bedford", "Luton", "Derby", "Suffolk", "MASH"}
    for pack_id in fc.bundled_ids():
        document = fc.load_pack(pack_id).document
        words.add(document.id)
        words.update(part for part in re.split(r"[ ,()]+", document.area) if len(part) > 3)
        for group in document.contacts.values():
            for authority, people in group.items():
                if authority != "default":
                    words.add(authority)
                for person in people:
                    words.add(person.phone)
                    words.update(part.strip() for part in person.phone.split("/"))
    return {w for w in words if w and w.lower() not in {"and", "north", "east", "central"}}


def test_no_module_mentions_an_area_landlord_authority_or_number() -> None:
    forbidden = _forbidden()
    assert {"north_lincs", "01724 296500", "01582 547760", "luton", "Ongo"} <= forbidden
    phone = re.compile(r"\b0\d{3,4} ?\d{3} ?\d{3,4}\b")
    offences = []
    for module in sorted(SRC.rglob("*.py")):
        text = module.read_text(encoding="utf-8")
        for word in forbidden:
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text,
                         re.IGNORECASE):  # fmt: skip
                offences.append(f"{module.relative_to(SRC)}: `{word}`")
        if phone.search(text):
            offences.append(f"{module.relative_to(SRC)}: a phone number")
    assert not offences, offences
