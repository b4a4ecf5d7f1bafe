"""The handbook: a pack as a readable procedure that a safeguarding partnership can sign off.

One chapter per section of the guidance, in the source's order: what each rule requires,
when and for whom, by when, who to call and what completes each step; the recurring duties,
patterns, risk tiers and closure conditions the section encodes; the scenarios that prove
each rule; and, marked, the sections no rule covers. The HTML is built from a Jinja template
with autoescape on: no text from the pack reaches the page unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ..pack.compiler import CompiledPack, CompiledRequirement
from ._templates import environment
from .describe import Describer, describer_for, label
from .wording import call_line, deadline_rule, recurring_words, timescale_words

_CITATION = re.compile(
    r"^(?P<pack>[a-z][a-z0-9_]*)\s+(?P<section>[^\s,]+)(?:,?\s*(?P<detail>.*))?$"
)


@dataclass(frozen=True, slots=True)
class Step:
    """One required step as the board reads it."""

    title: str
    owner: str
    by_when: str  # `within 5 working days`
    deadline: str  # how the due time is worked out
    calls: tuple[str, ...]
    completed_by: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing the pack does that a section of the guidance asks for."""

    kind: str  # `rule`, `recurring duty`, `pattern`, `risk`, `failed contact`, `closure`
    id: str
    heading: str
    detail: str | None  # the citation's words after the section
    trigger: str | None
    applies: str | None
    steps: tuple[Step, ...] = ()
    note: str | None = None
    scenarios: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Chapter:
    """One section of the guidance and what the pack encodes from it."""

    id: str
    title: str
    not_actionable: str | None
    entries: tuple[Entry, ...]

    @property
    def covered(self) -> bool:
        """True when some part of the pack cites the section."""
        return bool(self.entries)

    @property
    def state(self) -> str:
        """`encoded`, `not actionable` or `not covered`: as the handbook marks it."""
        if self.entries:
            return "encoded"
        return "not actionable" if self.not_actionable else "not covered"


@dataclass(frozen=True, slots=True)
class Tier:
    """One risk-tier rule: the tier, when it applies and why."""

    tier: str
    when: str
    reason: str
    citation: str | None


@dataclass(frozen=True, slots=True)
class Handbook:
    """Everything the handbook shows, worked out once for HTML and Markdown."""

    pack_id: str
    title: str
    area: str
    version: str
    guidance: str
    issued: str | None
    chapters: tuple[Chapter, ...]
    tiers: tuple[Tier, ...]
    closure: tuple[str, ...] | None
    failed_contacts: tuple[str, ...]
    unproven: tuple[str, ...] = field(default=())

    @property
    def uncovered(self) -> tuple[Chapter, ...]:
        """The sections nothing encodes and that give no reason why."""
        return tuple(c for c in self.chapters if c.state == "not covered")


def build_handbook(
    pack: CompiledPack, proofs: Mapping[str, Sequence[str]] | None = None
) -> Handbook:
    """The handbook of a pack; `proofs` names, for each rule, duty or pattern id, the scenarios
    that exercise it (the command line works them out from the pack's scenario folder)."""
    proofs = proofs or {}
    document = pack.document
    describer = describer_for(document)
    entries = _entries(pack, describer, proofs)
    chapters = tuple(
        Chapter(s.id, s.title, s.not_actionable, tuple(e for sid, e in entries if sid == s.id))
        for s in document.source.sections
    )
    ids = [r.id for r in document.rules] + [d.id for d in document.duties]
    ids += [p.id for p in document.patterns]
    closure = None
    if document.closure is not None:
        closure = tuple(c.title for c in document.closure.requires)
    issued = document.source.issued
    return Handbook(
        document.id,
        document.title,
        document.area,
        document.version,
        document.source.title,
        issued.isoformat() if isinstance(issued, date) else issued,
        chapters,
        _tiers(pack, describer),
        closure,
        tuple(
            f"{k.name}: {', '.join(label('outcome', o.split('.')[-1]) for o in k.outcomes)}"
            for k in document.failed_contacts.values()
        ),
        tuple(i for i in ids if not proofs.get(i)),
    )


def _section(citation: str | None, pack_id: str) -> tuple[str | None, str | None]:
    match = _CITATION.match(citation or "")
    if match is None or match["pack"] != pack_id:
        return None, None
    return match["section"], (match["detail"] or None)


def _entries(
    pack: CompiledPack, describer: Describer, proofs: Mapping[str, Sequence[str]]
) -> list[tuple[str | None, Entry]]:
    return [
        *_rule_entries(pack, describer, proofs),
        *_duty_and_pattern_entries(pack, describer, proofs),
        *_other_entries(pack, describer),
    ]


def _rule_entries(
    pack: CompiledPack, describer: Describer, proofs: Mapping[str, Sequence[str]]
) -> list[tuple[str | None, Entry]]:
    found = []
    for index, rule in enumerate(pack.rules):
        section, detail = _section(rule.citation, pack.document.id)
        steps = tuple(_step(pack, describer, need) for need in rule.requires)
        trigger = " or ".join(_trigger(t) for t in sorted(rule.triggers))
        applies = _for_whom(describer.describe(pack.trees.get(("rules", index, "when"))))
        entry = Entry("rule", rule.id, _heading(rule.id, detail), detail, trigger, applies,
                      steps, rule.note, tuple(proofs.get(rule.id, ())))  # fmt: skip
        found.append((section, entry))
    return found


def _duty_and_pattern_entries(
    pack: CompiledPack, describer: Describer, proofs: Mapping[str, Sequence[str]]
) -> list[tuple[str | None, Entry]]:
    found = []
    for index, duty in enumerate(pack.duties):
        section, detail = _section(duty.citation, pack.document.id)
        every = recurring_words(duty.requirement.timescale)
        applies = _for_whom(describer.describe(pack.trees.get(("duties", index, "when"))))
        step = _step(pack, describer, duty.requirement)
        entry = Entry("recurring duty", duty.id, _heading(duty.id, detail), detail,
                      f"recurring: the child must be seen {every}", applies, (step,),
                      duty.note, tuple(proofs.get(duty.id, ())))  # fmt: skip
        found.append((section, entry))
    for index, pattern in enumerate(pack.document.patterns):
        section, detail = _section(pattern.citation, pack.document.id)
        entry = Entry("pattern", pattern.id, pattern.title, detail, None,
                      _pattern_words(pack, describer, index),
                      scenarios=tuple(proofs.get(pattern.id, ())))  # fmt: skip
        found.append((section, entry))
    return found


def _other_entries(pack: CompiledPack, describer: Describer) -> list[tuple[str | None, Entry]]:
    document, trees, found = pack.document, pack.trees, []
    for kind_id, kind in document.failed_contacts.items():
        section, detail = _section(kind.citation, document.id)
        outcomes = ", ".join(label("outcome", o.split(".")[-1]) for o in kind.outcomes)
        found.append(
            (
                section,
                Entry(
                    "failed contact",
                    kind_id,
                    f"What counts as a {kind.name}",
                    detail,
                    None,
                    f"an outcome of: {outcomes}",
                ),
            )
        )
    for index, risk in enumerate(document.risk.rules):
        section, detail = _section(risk.citation, document.id)
        when = describer.describe(trees.get(("risk", "rules", index, "when")))
        found.append(
            (
                section,
                Entry(
                    "risk",
                    f"risk {index + 1}",
                    f"{risk.tier} risk: {risk.reason}",
                    detail,
                    None,
                    when,
                ),
            )
        )
    if document.closure is not None:
        for index, condition in enumerate(document.closure.requires):
            section, detail = _section(condition.citation or document.closure.citation, document.id)
            when = describer.describe(trees.get(("closure", "requires", index, "when")))
            found.append(
                (
                    section,
                    Entry(
                        "closure",
                        condition.id,
                        f"Before closing: {condition.title}",
                        detail,
                        None,
                        when,
                    ),
                )
            )
    return found


def _for_whom(words: str) -> str:
    return "every case" if words == "always" else words


def _heading(entry_id: str, detail: str | None) -> str:
    text = detail or entry_id.split(".")[-1].replace("_", " ")
    return text[:1].upper() + text[1:]


def _trigger(trigger: str) -> str:
    if trigger == "failed_contact":
        return "a failed contact"
    if trigger == "as_of":
        return "the time of the assessment"
    return label("event", trigger)


def _step(pack: CompiledPack, describer: Describer, need: CompiledRequirement) -> Step:
    calls = []
    for authority, people in (pack.contacts.get(need.contacts or "", {})).items():
        where = "" if authority == "default" else f"For {label('local_authority', authority)}: "
        calls += [where + call_line(name, phone) for name, phone in people]
    done = None
    if need.completed_by is not None:
        done = describer.condition(need.completed_by)
    return Step(
        need.title,
        need.owner,
        timescale_words(need.timescale),
        deadline_rule(need.timescale),
        tuple(calls),
        done,
    )


def _pattern_words(pack: CompiledPack, describer: Describer, index: int) -> str:
    pattern, trees = pack.document.patterns[index], pack.trees
    if pattern.count is not None:
        count = pattern.count
        where = describer.describe(trees.get(("patterns", index, "count", "of")))
        span = " in the current run of failed contacts" if count.in_run else ""
        window = count.within
        if window is not None:
            unit, amount = next(
                (u, getattr(window, u))
                for u in ("days", "months", "years")
                if getattr(window, u) is not None
            )
            span += f" within {amount} {unit[:-1] if amount == 1 else unit}"
        elif count.within_days is not None:
            span += f" within {count.within_days} days"
        return f"at least {count.at_least} events{span} where {where}"
    prefix = ("patterns", index, "sequence")
    steps = [describer.describe(tree) for path, tree in trees.items() if path[:3] == prefix]
    return "in this order: " + "; then ".join(steps)


def _tiers(pack: CompiledPack, describer: Describer) -> tuple[Tier, ...]:
    document = pack.document
    tiers = [
        Tier(
            rule.tier.value,
            describer.describe(pack.trees.get(("risk", "rules", i, "when"))),
            rule.reason,
            rule.citation,
        )
        for i, rule in enumerate(document.risk.rules)
    ]
    otherwise = document.risk.otherwise
    tiers.append(
        Tier(otherwise.tier.value, "no rule above applies", otherwise.reason, otherwise.citation)
    )
    return tuple(tiers)


def render_handbook_html(handbook: Handbook) -> str:
    """The handbook as one self-contained, printable HTML page (no scripts, no links out)."""
    return environment().get_template("handbook.html.j2").render(book=handbook)


def render_handbook_markdown(handbook: Handbook) -> str:
    """The handbook as Markdown, to paste beside the guidance in a board's papers."""
    return environment().get_template("handbook.md.j2").render(book=handbook)
