"""What really differs between two packs: steps, timescales, owners, risk, contacts, scope.

Wording (titles, reasons, citations, local names) is not compared: two areas phrase the same
step differently, and a policy lead wants to see what a practitioner would do differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..pack.compiler import CompiledPack, CompiledPattern


@dataclass(frozen=True, slots=True)
class Difference:
    """One real difference, in a category, with each side's value as text."""

    category: str
    subject: str
    left: str
    right: str


def _local(pack: CompiledPack, action: str) -> str:
    """An action id as compared across packs: a pack's own `<id>.name` becomes `<own>.name`."""
    prefix = f"{pack.document.id}."
    return f"<own>.{action.removeprefix(prefix)}" if action.startswith(prefix) else action


def _requirements(pack: CompiledPack) -> dict[str, set[tuple[str, str, str, str]]]:
    found: dict[str, set[tuple[str, str, str, str]]] = {}
    for rule in pack.rules:
        triggers = ", ".join(sorted(rule.triggers))
        for requirement in rule.requires:
            found.setdefault(_local(pack, requirement.action), set()).add(
                (triggers, rule.when.text, requirement.timescale.describe(), requirement.owner)
            )
    return found


def _duties(pack: CompiledPack) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for duty in pack.duties:
        starts = f", from the latest event where {duty.starts.text}" if duty.starts else ""
        found.setdefault(_local(pack, duty.requirement.action), set()).add(
            f"{duty.requirement.timescale.describe('every')} while {duty.when.text}{starts}, "
            f"discharged by an event where {duty.by.text}"
        )
    return found


def _evidence(pack: CompiledPack, action: str) -> str:
    texts = {
        r.completed_by.text
        for rule in pack.rules
        for r in rule.requires
        if _local(pack, r.action) == action and r.completed_by is not None
    }
    return "an `action` record" + (f", or an event where {_show(texts)}" if texts else "")


def _contacts(pack: CompiledPack, action: str) -> str:
    group = next(
        (
            r.contacts
            for rule in pack.rules
            for r in rule.requires
            if _local(pack, r.action) == action
        ),
        None,
    )
    if group is None:
        return "none"
    by_area = pack.contacts.get(group, {})
    return "; ".join(
        f"{area}: " + ", ".join(f"{name} {phone}" for name, phone in people)
        for area, people in sorted(by_area.items())
    )


def _show(values: set[str]) -> str:
    return "; ".join(sorted(values)) if values else "-"


def diff_packs(left: CompiledPack, right: CompiledPack) -> list[Difference]:
    """Every real difference between two compiled packs, grouped by category."""
    found = _Found()
    for compare in _COMPARISONS:
        compare(left, right, found)
    return list(found)


class _Found(list[Difference]):
    """The differences found so far."""

    def add(self, category: str, subject: str, a: str, b: str) -> None:
        """Keep the two packs' answers to one question when they differ."""
        if a != b:
            self.append(Difference(category, subject, a, b))


def _diff_settings(left: CompiledPack, right: CompiledPack, found: _Found) -> None:
    la, ra = left.document, right.document
    found.add(
        "scope",
        "pregnant women (unborn children) covered explicitly",
        "yes" if la.scope.unborn else "no",
        "yes" if ra.scope.unborn else "no",
    )
    cal_l, cal_r = la.calendar, ra.calendar
    found.add(
        "calendar",
        "working days",
        f"{cal_l.country}/{cal_l.subdivision}",
        f"{cal_r.country}/{cal_r.subdivision}",
    )
    found.add(
        "calendar",
        "working hours",
        f"{cal_l.working_hours.start:%H:%M}-{cal_l.working_hours.end:%H:%M}",
        f"{cal_r.working_hours.start:%H:%M}-{cal_r.working_hours.end:%H:%M}",
    )


def _diff_failed_contacts(left: CompiledPack, right: CompiledPack, found: _Found) -> None:
    counted_l = {".".join(k) for k in left.failed_kind}
    counted_r = {".".join(k) for k in right.failed_kind}
    for outcome in sorted(counted_l | counted_r):
        found.add(
            "failed contacts",
            f"`{outcome}` counts as a failed contact",
            "yes" if outcome in counted_l else "no",
            "yes" if outcome in counted_r else "no",
        )


def _diff_actions(left: CompiledPack, right: CompiledPack, found: _Found) -> None:
    need_l, need_r = _requirements(left), _requirements(right)
    for action in sorted(set(need_l) | set(need_r)):
        if action not in need_r:
            found.append(Difference("actions", f"`{action}`", "required", "not required"))
            continue
        if action not in need_l:
            found.append(Difference("actions", f"`{action}`", "not required", "required"))
            continue
        a, b = need_l[action], need_r[action]
        found.add(
            "actions", f"`{action}` timescale", _show({x[2] for x in a}), _show({x[2] for x in b})
        )
        found.add(
            "actions", f"`{action}` owner", _show({x[3] for x in a}), _show({x[3] for x in b})
        )
        when_a = {f"on {x[0]} when {x[1]}" for x in a}
        when_b = {f"on {x[0]} when {x[1]}" for x in b}
        found.add("actions", f"`{action}` required", _show(when_a), _show(when_b))
        found.add(
            "contacts", f"`{action}` contacts", _contacts(left, action), _contacts(right, action)
        )
        found.add(
            "actions", f"`{action}` completed by", _evidence(left, action), _evidence(right, action)
        )


def _diff_duties(left: CompiledPack, right: CompiledPack, found: _Found) -> None:
    duty_l, duty_r = _duties(left), _duties(right)
    for action in sorted(set(duty_l) | set(duty_r)):
        found.add(
            "duties",
            f"`{action}` recurs",
            _show(duty_l.get(action, set())),
            _show(duty_r.get(action, set())),
        )


def _diff_risk(left: CompiledPack, right: CompiledPack, found: _Found) -> None:
    risk_l = [f"{r.tier.value} when {r.when.text}" for r in left.risk]
    risk_r = [f"{r.tier.value} when {r.when.text}" for r in right.risk]
    for rule in [r for r in risk_l if r not in risk_r]:
        found.append(Difference("risk", rule, "yes", "no"))
    for rule in [r for r in risk_r if r not in risk_l]:
        found.append(Difference("risk", rule, "no", "yes"))
    found.add("risk", "otherwise", left.risk_default.tier.value, right.risk_default.tier.value)


def _diff_patterns(left: CompiledPack, right: CompiledPack, found: _Found) -> None:
    pat_l = {p.id: p for p in left.patterns}
    pat_r = {p.id: p for p in right.patterns}
    for pattern_id in sorted(set(pat_l) | set(pat_r)):
        found.add(
            "patterns",
            f"`{pattern_id}`",
            _pattern(pat_l.get(pattern_id)),
            _pattern(pat_r.get(pattern_id)),
        )


def _diff_closure_and_flags(left: CompiledPack, right: CompiledPack, found: _Found) -> None:
    close_l = {c.when.text for c in left.closure or ()}
    close_r = {c.when.text for c in right.closure or ()}
    found.add(
        "closure",
        "conditions before a case may close",
        "none (the guidance is silent)" if left.closure is None else _show(close_l),
        "none (the guidance is silent)" if right.closure is None else _show(close_r),
    )
    found.add(
        "flags",
        "case flags read",
        _show(set(left.document.flags)),
        _show(set(right.document.flags)),
    )


# In the order a reader meets them: settings, what counts, what is required, then what is
# watched.
_COMPARISONS = (
    _diff_settings,
    _diff_failed_contacts,
    _diff_actions,
    _diff_duties,
    _diff_risk,
    _diff_patterns,
    _diff_closure_and_flags,
)


def _pattern(pattern: CompiledPattern | None) -> str:
    if pattern is None:
        return "not watched"
    if pattern.kind == "count":
        scope = " in the current run" if pattern.in_run else ""
        window = f" within {pattern.within_days} days" if pattern.within_days else ""
        if pattern.within_months:
            window = f" within {pattern.within_months} calendar months"
        return f"at least {pattern.at_least} events where {pattern.select.text}{scope}{window}"
    assert pattern.next is not None and pattern.then is not None
    window = f" within {pattern.within_days} days" if pattern.within_days else ""
    return (f"{pattern.select.text}, then the next event where {pattern.next.text} has "
            f"{pattern.then.text}{window}")  # fmt: skip
