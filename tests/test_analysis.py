"""Static analysis: each finding is caught in a deliberately broken pack, at its location."""

from __future__ import annotations

import pytest

import failedcontact as fc
from failedcontact.errors import Severity
from failedcontact.pack import analysis
from failedcontact.pack.pipeline import Stage, run_pipeline
from failedcontact.source.locate import bundled_dir

from .conftest import MINIMAL_PACK

RULES_END = "    require: [report_significant_harm]\n"


def _findings(text: str) -> list[fc.Diagnostic]:
    result = run_pipeline(text, "demo.yaml")
    # only the analysis may object: earlier stages would hide what it finds
    assert result.reached is Stage.ANALYSIS, [d.render() for d in result.diagnostics]
    assert (result.compiled is None) == bool(result.errors)
    return list(result.diagnostics)


def _line(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[occurrence - 1]


def _with_rule(rule: str) -> str:
    assert RULES_END in MINIMAL_PACK
    return MINIMAL_PACK.replace(RULES_END, RULES_END + rule, 1)


BROKEN = [
    (
        "plan-both-none-and-cp",
        _with_rule(
            "  - id: impossible\n    citation: demo 1\n    on: [failed_contact]\n"
            "    when: {all: [{plan: none}, {plan: child_protection}]}\n"
            "    require: [offer_further_appointment]\n"
        ),
        "analysis.unsatisfiable",
        "when: {all: [{plan: none}, {plan: child_protection}]}",
    ),
    (
        "count-beyond-the-trigger",
        _with_rule(
            "  - id: third_but_four\n    citation: demo 1\n    on: [failed_contact]\n"
            "    when: {failed_contacts: 3, all: [{failed_contacts: {at_least: 4}}]}\n"
            "    require: [offer_further_appointment]\n"
        ),
        "analysis.unsatisfiable",
        "when: {failed_contacts: 3, all:",
    ),
    (
        "outcome-its-trigger-cannot-have",
        _with_rule(
            "  - id: visit_on_concern\n    citation: demo 1\n    on: [concern]\n"
            "    when: {outcome: no_response}\n    require: [offer_further_appointment]\n"
        ),
        "analysis.unsatisfiable",
        "when: {outcome: no_response}",
    ),
    (
        "subsumed",
        _with_rule(
            "  - id: narrower\n    citation: demo 1\n    on: [failed_contact]\n"
            "    when: {failed_contacts: 1, plan: child_protection}\n"
            "    require: [offer_further_appointment]\n"
        ),
        "analysis.subsumed",
        "- id: narrower",
    ),
    (
        "conflicting-deadline",
        _with_rule(
            "  - id: sooner\n    citation: demo 1\n    on: [failed_contact]\n"
            "    when: {plan: child_protection}\n"
            "    require: [{action: offer_further_appointment, deadline: {working_days: 2}}]\n"
        ),
        "analysis.conflict",
        "require: [{action: offer_further_appointment, deadline:",
    ),
    (
        "shadowed-risk",
        MINIMAL_PACK.replace(
            "    - {tier: high, when: {plan: child_protection}, reason: cp plan}\n",
            "    - {tier: medium, when: {plan: {in: [child_protection, child_in_need]}}, "
            "reason: a plan}\n"
            "    - {tier: high, when: {plan: child_protection}, reason: cp plan}\n",
        ),
        "analysis.shadowed-risk",
        "{tier: high, when: {plan: child_protection}",
    ),
    (
        "unused-action",
        MINIMAL_PACK.replace(
            "actions:\n",
            "actions:\n  telephone_family:\n    title: Phone\n    owner: me\n"
            "    citation: demo 1\n",
        ),
        "analysis.unused-action",
        "  telephone_family:",
    ),
    (
        "unused-contacts",
        MINIMAL_PACK.replace(
            "\ncontacts:\n", "\ncontacts:\n  spare:\n    default: [{name: Nobody, phone: '0'}]\n"
        ),
        "analysis.unused-contacts",
        "  spare:",
    ),
    ("unused-flag", MINIMAL_PACK, "analysis.unused-flag", "demo_flag: a flag for tests"),
    ("no-citation", MINIMAL_PACK, "analysis.no-citation", "  report_significant_harm:"),
]


@pytest.mark.parametrize(
    ("text", "code", "where"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_analysis_catches(text: str, code: str, where: str) -> None:
    found = [d for d in _findings(text) if d.code == code]
    assert found, f"no {code}"
    assert found[0].line == _line(text, where), found[0].render()
    assert found[0].help


def test_unsatisfiable_is_an_error_and_the_rest_warnings() -> None:
    severities = {
        code: {d.severity.value for d in _findings(text) if d.code == code}
        for _, text, code, _ in BROKEN
    }
    assert severities["analysis.unsatisfiable"] == {"error"}
    assert all(s == {"warning"} for c, s in severities.items() if c != "analysis.unsatisfiable")


def test_minimal_pack_has_no_rule_findings() -> None:
    codes = {d.code for d in _findings(MINIMAL_PACK)}
    assert codes == {"analysis.unused-flag", "analysis.no-citation"}


@pytest.mark.parametrize(
    "pack_id", ["north_lincs", "pan_beds", "ne_lincs", "derbyshire", "suffolk"]
)
def test_bundled_packs_are_clean_under_analysis(pack_id: str) -> None:
    text = (bundled_dir() / f"{pack_id}.yaml").read_text(encoding="utf-8")
    assert [d.render() for d in _findings(text)] == []


@pytest.mark.parametrize(
    ("name", "shared"),
    [
        ("make_referral", "consider_referral_to_social_care"),  # a listed alias
        ("call_police", "call_police"),  # the shared id itself, behind the prefix
        ("telephone_famly", "telephone_family"),  # a near spelling
        ("call_back", None),  # a genuinely local step
    ],
    ids=["alias", "same-name", "near-spelling", "local"],
)
def test_own_action_meaning_a_shared_one_is_reported(name: str, shared: str | None) -> None:
    text = MINIMAL_PACK.replace("demo.call_back", f"demo.{name}")
    found = [d for d in _findings(text) if d.code == "analysis.own-means-shared"]
    if shared is None:
        assert not found
    else:
        assert len(found) == 1 and f"`{shared}`" in found[0].message
        assert found[0].severity is Severity.WARNING  # `check --strict` fails on it


@pytest.mark.parametrize(
    "condition",
    [
        "{failed_contacts: {at_least: 100000000}}",
        "{failed_contacts: {at_least: " + str(10**36) + "}}",
    ],
    ids=["hundred-million", "ten-to-the-36"],
)
def test_huge_numbers_are_analysed_exactly_and_fast(condition: str) -> None:
    text = MINIMAL_PACK.replace("when: {failed_contacts: 1}", f"when: {condition}")
    found = _findings(text)  # was minutes and gigabytes, or an OverflowError
    assert not [d for d in found if d.code in ("analysis.unsatisfiable", "analysis.budget")]


def test_many_flags_in_one_test_are_not_expanded_into_a_power_set() -> None:
    flags = [f"f{i}" for i in range(26)]
    text = MINIMAL_PACK.replace(
        "flags:\n  demo_flag: a flag for tests\n",
        "flags:\n" + "".join(f"  {flag}: a flag\n" for flag in flags),
    ).replace(
        "when: {failed_contacts: 1}", f"when: {{flags: {{contains_any: [{', '.join(flags)}]}}}}"
    )
    assert "analysis.unsatisfiable" not in {d.code for d in _findings(text)}


def test_a_spent_budget_is_reported_not_exploded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis, "BUDGET", 2_000)
    rule = (
        "  - id: r{i}\n    citation: demo 1, first\n    on: [failed_contact]\n"
        "    when: {{failed_contacts: {{at_least: {i}}}, plan: {{in: [none, early_help]}}}}\n"
        "    require: [offer_further_appointment]\n"
    )
    text = MINIMAL_PACK + "".join(rule.format(i=i) for i in range(1, 60))
    found = [d for d in _findings(text) if d.code == "analysis.budget"]
    assert len(found) == 1 and found[0].severity is Severity.WARNING
