"""Start a new area's pack: from an existing pack and its scenarios, or from a few answers.

The copy renames the pack's own ids and prefixes (`<old>.x` becomes `<new>.x`,
`<old> 6a` in a citation becomes `<new> 6a`), puts the new area's name where the
old one was written, resets the version, and leaves the source's title and every contact for
the policy lead to fill in (each marked `TODO`). The result passes `failedcontact check`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import UsageError
from .fmt import layout

FIRST_VERSION = "1.0.0"
TODO_SOURCE = "TODO: the guidance document's title, as it is printed"
TODO_TEAM = "TODO: the team to call, as the guidance names it"
TODO_PHONE = "TODO: the number, exactly as the guidance prints it"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class NewArea:
    """The files of a new area: the pack's text, and each scenario file's name and text."""

    pack_id: str
    pack: str
    scenarios: dict[str, str]

    def write(self, policies: Path) -> list[Path]:
        """Write the pack to `policies/<id>.yaml` and its scenarios under `policies/tests/<id>/`.

        Refuses to overwrite: a file that is already there is a `UsageError`.
        """
        targets = {policies / f"{self.pack_id}.yaml": self.pack}
        folder = policies / "tests" / self.pack_id
        targets |= {folder / name: text for name, text in self.scenarios.items()}
        existing = [str(path) for path in targets if path.exists()]
        if existing:
            raise UsageError(
                f"`{existing[0]}` already exists: choose another id, or move the file away"
            )
        for path, text in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return list(targets)


def check_new_id(new_id: str, old_id: str | None = None) -> None:
    """Refuse an id that is not lower-case with underscores, or that is the source's own."""
    if not _ID.match(new_id):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", new_id.lower()).strip("_")
        raise UsageError(
            f"`{new_id}` is not a pack id: an id is lower-case letters, digits and underscores, "
            f"starting with a letter (try `{suggestion or 'west_shire'}`)"
        )
    if new_id == old_id:
        raise UsageError(f"the new area's id `{new_id}` is the id of the pack it copies")


def area_name(new_id: str) -> str:
    """`west_shire` -> `West Shire`: the area's name until the policy lead writes it."""
    return " ".join(part.capitalize() for part in new_id.split("_"))


def rename_ids(text: str, old_id: str, new_id: str) -> str:
    """The text with the old pack's own ids, prefixes and citations given the new id."""
    old = re.escape(old_id)
    text = re.sub(rf"(?<![\w.]){old}\.(?=\w)", f"{new_id}.", text)
    text = re.sub(rf"(\b(?:citation|section|id|pack):\s*[\"']?){old}\b", rf"\g<1>{new_id}", text)
    return re.sub(rf"(\.\./)+{old}\.yaml\b", lambda m: m[0].replace(old_id, new_id), text)


def copy_area(pack_text: str, new_id: str, area: str | None = None) -> str:
    """A new area's pack from an existing pack's text (see the module's docstring)."""
    yaml = layout()
    old: Any = yaml.load(pack_text)
    old_id, old_area = str(old["id"]), str(old["area"])
    check_new_id(new_id, old_id)
    area = area or area_name(new_id)
    text = rename_ids(pack_text, old_id, new_id)
    if old_area and old_area != area:
        text = text.replace(old_area, area)
    document: Any = yaml.load(text)
    document["version"] = FIRST_VERSION
    source = document["source"]
    source["title"] = TODO_SOURCE
    source["issued"] = None
    if "version" in source:
        del source["version"]
    source.yaml_set_comment_before_after_key(
        "sections",
        before=f"The sections of {old_id}'s guidance: write your guidance's sections here\n"
        "and cite them from the rules that encode them.",
        indent=2,
    )
    for group in document.get("contacts") or {}:
        document["contacts"][group] = _todo_contacts()
    out = io.StringIO()
    yaml.dump(document, out)
    header = (
        f"# Started from {old_id} {old['version']} by `failedcontact new-area`: fill in every\n"
        "# TODO, then run `failedcontact check` on this file.\n"
    )
    return _after_schema_line(out.getvalue(), header)


def copy_scenarios(files: dict[str, str], old_id: str, new_id: str, area: str | None = None,
                   old_area: str | None = None) -> dict[str, str]:  # fmt: skip
    """Each scenario file's text with the old pack's ids, prefixes and citations renamed."""
    area = area or area_name(new_id)
    copied = {}
    for name, text in files.items():
        text = rename_ids(text, old_id, new_id)
        if old_area and old_area != area:
            text = text.replace(old_area, area)
        copied[name] = text
    return copied


def from_pack(pack_path: Path, new_id: str, area: str | None = None) -> NewArea:
    """The new area copied from the pack at `pack_path` and the scenarios beside it."""
    pack_text = pack_path.read_text(encoding="utf-8")
    old: Any = layout().load(pack_text)
    old_id, old_area = str(old["id"]), str(old["area"])
    pack = copy_area(pack_text, new_id, area)
    folder = pack_path.parent / "tests" / old_id
    files = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*.yaml")):
            files[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    return NewArea(new_id, pack, copy_scenarios(files, old_id, new_id, area, old_area))


@dataclass(frozen=True, slots=True)
class Answers:
    """What a new area needs to start from nothing."""

    area: str
    guidance: str
    sections: tuple[tuple[str, str], ...]  # (id, title), in the document's order


def from_answers(new_id: str, answers: Answers) -> NewArea:
    """A new area's smallest pack that passes `check`, and one scenario that proves its rule."""
    check_new_id(new_id)
    if not answers.sections:
        raise UsageError("a new area needs at least one section of its guidance")
    first = answers.sections[0][0]
    sections = CommentedSeq(
        CommentedMap([("id", sid), ("title", title)]) for sid, title in answers.sections
    )
    document = CommentedMap()
    document.update(
        id=new_id,
        title=f"Failed contacts with children ({answers.area})",
        area=answers.area,
        version=FIRST_VERSION,
        source=CommentedMap(title=answers.guidance, issued=None, sections=sections),
        calendar=CommentedMap(country="GB", subdivision="ENG"),
        contacts=CommentedMap(significant_harm=_todo_contacts()),
        failed_contacts=CommentedMap(
            no_access_visit=CommentedMap(
                name="no access visit",
                outcomes=CommentedSeq(["home_visit.no_response", "home_visit.access_refused"]),
                citation=f"{new_id} {first}",
            )
        ),
        risk=CommentedMap(
            rules=CommentedSeq(),
            otherwise=CommentedMap(
                tier="low",
                reason="TODO: why a child with no known concerns is low risk",
                citation=f"{new_id} {first}",
            ),
        ),
        actions=_first_actions(new_id, first),
        rules=_first_rules(new_id, first),
    )
    out = io.StringIO()
    layout().dump(document, out)
    header = (
        "# yaml-language-server: $schema=../schemas/pack.schema.json\n"
        f"# {answers.area}: started by `failedcontact new-area`. Fill in every TODO, encode\n"
        "# each section of the guidance (docs/policy-leads.md), then run `failedcontact check`.\n"
    )
    return NewArea(
        new_id, header + out.getvalue(), {"scenarios.yaml": _first_scenario(new_id, first)}
    )


def _first_actions(new_id: str, section: str) -> CommentedMap:
    record = CommentedMap(
        title="Record the failed contact and the action taken in the case notes",
        owner="practitioner",
        citation=f"{new_id} {section}",
    )
    report = CommentedMap(
        title="Report a concern of significant harm at once",
        owner="practitioner",
        deadline="immediately",
        citation=f"{new_id} {section}",
        contacts="significant_harm",
    )
    return CommentedMap(record_failed_contact=record, report_significant_harm=report)


def _first_rules(new_id: str, section: str) -> CommentedSeq:
    first = CommentedMap(
        id="first_no_access",
        citation=f"{new_id} {section}, first no access visit",
        on=CommentedSeq(["failed_contact"]),
        when=CommentedMap(failed_contacts=1),
        require=CommentedSeq(["record_failed_contact"]),
    )
    levels = CommentedSeq(["significant_harm", "immediate_danger"])
    levels.fa.set_flow_style()
    harm = CommentedMap(
        id="significant_harm",
        citation=f"{new_id} {section}, concern of significant harm",
        on=CommentedSeq(["concern"]),
        when=CommentedMap(concern_level=CommentedMap([("in", levels)])),
        require=CommentedSeq(["report_significant_harm"]),
    )
    return CommentedSeq([first, harm])


def _first_scenario(new_id: str, section: str) -> str:
    return (
        "# yaml-language-server: $schema=../../../schemas/scenario.schema.json\n"
        f"pack: {new_id}\n"
        "scenarios:\n"
        "  - name: the first no access visit is recorded\n"
        f"    section: {new_id} {section}, first no access visit\n"
        '    as_of: "2026-12-01T09:00:00+00:00"\n'
        "    case:\n"
        "      case_id: NEW-1\n"
        '      child: {date_of_birth: "2015-01-01"}\n'
        "      events:\n"
        '        - {at: "2026-11-30T10:00:00", type: home_visit, outcome: no_response}\n'
        "    expect:\n"
        "      actions:\n"
        "        record_failed_contact: {status: outstanding}\n"
        "  - name: a concern of significant harm is reported at once\n"
        f"    section: {new_id} {section}, concern of significant harm\n"
        '    as_of: "2026-12-01T09:00:00+00:00"\n'
        "    case:\n"
        "      case_id: NEW-2\n"
        '      child: {date_of_birth: "2015-01-01"}\n'
        "      events:\n"
        '        - {at: "2026-11-30T10:00:00", type: concern, level: significant_harm}\n'
        "    expect:\n"
        "      actions:\n"
        "        report_significant_harm: {status: overdue}\n"
    )


def _todo_contacts() -> CommentedMap:
    contact = CommentedMap(name=TODO_TEAM, phone=TODO_PHONE)
    return CommentedMap(default=CommentedSeq([contact]))


def _after_schema_line(text: str, header: str) -> str:
    first, _, rest = text.partition("\n")
    if first.startswith("# yaml-language-server"):
        return f"{first}\n{header}{rest}"
    return header + text
