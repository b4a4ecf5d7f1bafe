"""Every stage of the pack pipeline reports located, coded diagnostics, all at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import failedcontact as fc
from failedcontact.errors import Severity
from failedcontact.pack.compiler import CompiledPack
from failedcontact.pack.pipeline import run_pipeline

from .conftest import MINIMAL_PACK


def _compiled(text: str, file: str) -> CompiledPack | list[fc.Diagnostic]:
    """The compiled pack, or the errors that stopped it."""
    result = run_pipeline(text, file)
    return result.compiled if result.compiled is not None else result.errors


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


@pytest.mark.parametrize("issued", ["null", '"2020"', '"2020-01-31"', "2020-01-31"])
def test_issue_date_forms(issued: str) -> None:
    text = MINIMAL_PACK.replace('issued: "2020-01"', f"issued: {issued}")
    assert not isinstance(_compiled(text, "demo.yaml"), list)


def test_bad_issue_date_is_a_diagnostic_not_a_crash() -> None:
    text = MINIMAL_PACK.replace('issued: "2020-01"', "issued: December 2018")
    result = _compiled(text, "demo.yaml")
    assert isinstance(result, list) and result[0].code == "pack.schema"


def test_minimal_pack_compiles() -> None:
    compiled = _compiled(MINIMAL_PACK, "demo.yaml")
    assert not isinstance(compiled, list), compiled


BROKEN = [
    # (id, old text, new text, code, text on the reported line, help contains)
    (
        "shared-id-wrong-category",
        "    title: Offer another appointment\n    owner: practitioner\n",
        "    title: Offer another appointment\n    owner: practitioner\n    category: visit\n",
        "pack.category",
        "    category: visit",
        "appointment",
    ),
    (
        "own-id-without-category",
        "    category: call\n",
        "",
        "pack.missing-category",
        "  demo.call_back:",
        "multi_agency",
    ),
    (
        "count-window-two-units",
        "when: {failed_contacts: 1}",
        "when: {count: {of: {event: call}, at_least: 1, within: {months: 1, years: 1}}}",
        "pack.window",
        "when: {count: {of: {event: call}, at_least: 1, within: {months: 1, years: 1}}}",
        None,
    ),
    (
        "count-unknown-scope",
        "when: {failed_contacts: 1}",
        "when: {count: {of: {event: call}, at_least: 1, scope: since_seen}}",
        "pack.unknown-value",
        "when: {count: {of: {event: call}, at_least: 1, scope: since_seen}}",
        "since_failed_contact",
    ),
    (
        "completed-by-unknown-fact",
        "    deadline: {hours: 24}\n",
        "    deadline: {hours: 24}\n    completed_by: {evnt: call}\n",
        "pack.unknown-fact",
        "    completed_by: {evnt: call}",
        "event",
    ),
    (
        "deadline-bad-unit-amount",
        "    deadline: {hours: 24}\n",
        "    deadline: {months: 0}\n",
        "pack.schema",
        "    deadline: {months: 0}",
        None,
    ),
    (
        "unknown-field",
        "  title: Offer another",
        "  titel: Offer another",
        "pack.unknown-field",
        "titel:",
        "did you mean `title`?",
    ),
    (
        "missing-field",
        "    owner: practitioner\n    deadline: immediately\n",
        "    deadline: immediately\n",
        "pack.missing-field",
        "report_significant_harm:",
        None,
    ),
    (
        "bad-deadline",
        "deadline: {working_days: 5}",
        "deadline: {fortnights: 1}",
        "pack.schema",
        "deadline: {fortnights: 1}",
        "working_days",
    ),
    (
        "unknown-action",
        "require: [report_significant_harm]",
        "require: [report_significant_harms]",
        "pack.unknown-action",
        "require: [report_significant_harms]",
        "did you mean `report_significant_harm`?",
    ),
    (
        "unknown-fact",
        "when: {failed_contacts: 1}",
        "when: {failed_contact: 1}",
        "pack.condition-type",
        "when: {failed_contact: 1}",
        None,
    ),
    (
        "unknown-fact-name",
        "when: {failed_contacts: 1}",
        "when: {failed_contcts: 1}",
        "pack.unknown-fact",
        "when: {failed_contcts: 1}",
        "did you mean `failed_contacts`?",
    ),
    (
        "unknown-value",
        "when: {plan: child_protection}",
        "when: {plan: child_protecton}",
        "pack.unknown-value",
        "when: {plan: child_protecton}",
        "did you mean `child_protection`?",
    ),
    (
        "unknown-operator",
        "when: {failed_contacts: 1}",
        "when: {failed_contacts: {atleast: 1}}",
        "pack.unknown-operator",
        "atleast",
        "did you mean `at_least`?",
    ),
    (
        "operator-type",
        "when: {failed_contacts: 1}",
        "when: {failed_contacts: {contains: 1}}",
        "pack.operator-type",
        "contains",
        None,
    ),
    (
        "fact-context",
        "when: {plan: child_protection}",
        "when: {outcome: no_response}",
        "pack.fact-context",
        "outcome: no_response",
        None,
    ),
    (
        "unknown-trigger",
        "on: [concern]",
        "on: [concerns]",
        "pack.unknown-trigger",
        "on: [concerns]",
        "did you mean `concern`?",
    ),
    (
        "unknown-outcome",
        "[home_visit.no_response,",
        "[home_visit.no_respons,",
        "pack.unknown-outcome",
        "home_visit.no_respons",
        "did you mean `home_visit.no_response`?",
    ),
    (
        "seen-outcome",
        "[home_visit.no_response,",
        "[home_visit.child_seen,",
        "pack.seen-outcome",
        "home_visit.child_seen",
        None,
    ),
    (
        "duplicate-rule",
        "  - id: harm\n",
        "  - id: first  # again\n",
        "pack.duplicate-id",
        "id: first  # again",
        None,
    ),
    ("action-prefix", "  demo.call_back:", "  call_back:", "pack.action-id", "call_back:", None),
    (
        "unknown-contacts",
        "contacts: harm",
        "contacts: harms",
        "pack.unknown-contacts",
        "contacts: harms",
        "did you mean `harm`?",
    ),
    (
        "unknown-section",
        "citation: demo 1, harm",
        "citation: demo 7, harm",
        "pack.unknown-section",
        "citation: demo 7",
        None,
    ),
    (
        "bad-citation",
        "citation: demo 1, harm",
        "citation: section 1",
        "pack.citation",
        "citation: section 1",
        None,
    ),
    (
        "calendar",
        "subdivision: ENG",
        "subdivision: ENGLAND",
        "pack.calendar",
        "subdivision: ENGLAND",
        None,
    ),
    (
        "duplicate-key",
        "area: Demo\n",
        "area: Demo\narea: Other\n",
        "pack.duplicate-key",
        "area: Other",
        None,
    ),
    ("yaml-syntax", "area: Demo\n", "area: [Demo\n", "pack.yaml", None, None),
    (
        "yaml-tag",
        "area: Demo\n",
        "area: !!python/object:os.system Demo\n",
        "pack.yaml",
        "area: !!python",
        "plain data",
    ),
    ("bad-version", "version: 1.0.0", "version: one", "pack.schema", "version: one", None),
]


@pytest.mark.parametrize(
    ("old", "new", "code", "line_text", "help_text"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_pack_is_located(
    old: str, new: str, code: str, line_text: str | None, help_text: str | None
) -> None:
    assert old in MINIMAL_PACK
    text = MINIMAL_PACK.replace(old, new, 1)
    result = _compiled(text, "demo.yaml")
    assert isinstance(result, list), "the broken pack compiled"
    matching = [d for d in result if d.code == code]
    assert matching, [d.render() for d in result]
    diagnostic = matching[0]
    assert diagnostic.file == "demo.yaml"
    assert diagnostic.message == diagnostic.message.lower() or "`" in diagnostic.message
    if line_text is not None:
        first_line = line_text.splitlines()[0]
        assert diagnostic.line == _line_of(text, first_line), diagnostic.render()
        assert diagnostic.column >= 1
    if help_text is not None:
        assert diagnostic.help is not None and help_text in diagnostic.help


def test_all_problems_are_collected_not_just_the_first() -> None:
    text = (
        MINIMAL_PACK.replace("require: [report_significant_harm]", "require: [nope]")
        .replace("on: [concern]", "on: [concerns]")
        .replace("when: {failed_contacts: 1}", "when: {failed_contactz: 1}")
        .replace("when: {plan: child_protection}", "when: {plan: cp}")
    )
    result = _compiled(text, "demo.yaml")
    assert isinstance(result, list)
    codes = sorted(d.code for d in result)
    assert codes == [
        "pack.unknown-action",
        "pack.unknown-fact",
        "pack.unknown-trigger",
        "pack.unknown-value",
    ]


def test_schema_errors_are_all_reported() -> None:
    text = MINIMAL_PACK.replace("area: Demo\n", "area: Demo\ncolour: blue\n").replace(
        "version: 1.0.0", "version: x"
    )
    result = _compiled(text, "demo.yaml")
    assert isinstance(result, list)
    assert {d.code for d in result} == {"pack.unknown-field", "pack.schema"}


def test_load_pack_raises_pack_error_with_location(
    write_pack: Callable[[str], str],
) -> None:
    path = write_pack(MINIMAL_PACK.replace("on: [concern]", "on: [concerns]"))
    with pytest.raises(fc.PackError) as caught:
        fc.load_pack(path)
    rendered = str(caught.value)
    line = _line_of(MINIMAL_PACK, "on: [concern]")
    assert f":{line}:" in rendered and "pack.unknown-trigger" in rendered


def test_unknown_bundled_pack_suggests_a_name() -> None:
    with pytest.raises(fc.PackError, match="north_lincs"):
        fc.load_pack("north_linc")


def test_check_file_is_clean_for_bundled_packs() -> None:
    from failedcontact.source.locate import bundled_dir

    for pack_id in fc.bundled_ids():
        assert fc.check_file(bundled_dir() / f"{pack_id}.yaml") == []


TIMESCALE_MISTAKES = [
    ("unit-typo", "{workingdays: 5}", "is not a timescale", "did you mean `working_days`?"),
    ("zero-hours", "{hours: 0}", "must be more than 0 (got `0`)", "write `deadline: immediately`"),
    (
        "zero-days",
        "{working_days: 0}",
        "must be at least 1 (got `0`)",
        "write `deadline: immediately`",
    ),
    (
        "zero-calendar",
        "{calendar_days: 0}",
        "must be at least 1 (got `0`)",
        "write `deadline: immediately`",
    ),
    ("two-units", "{working_days: 5, hours: 2}", "has more than one unit", "one unit"),
    ("a-word", "soon", "(got `soon`)", "a timescale is `immediately`, `none`"),
]


@pytest.mark.parametrize(
    ("written", "message", "help_text"),
    [m[1:] for m in TIMESCALE_MISTAKES],
    ids=[m[0] for m in TIMESCALE_MISTAKES],
)
def test_a_timescale_mistake_is_one_clear_diagnostic(
    written: str, message: str, help_text: str
) -> None:
    old = "deadline: {working_days: 5}"
    assert old in MINIMAL_PACK
    result = run_pipeline(MINIMAL_PACK.replace(old, f"deadline: {written}", 1), "demo.yaml")
    # one message per mistake, never the union's internals
    assert len(result.errors) == 1, [d.render() for d in result.errors]
    [diagnostic] = result.errors
    assert message in diagnostic.message and "literal[" not in diagnostic.message
    assert diagnostic.help is not None and help_text in diagnostic.help
    assert (diagnostic.line, diagnostic.file) == (_line_of(MINIMAL_PACK, old), "demo.yaml")


def test_check_reports_every_stage_in_one_run() -> None:
    # a schema typo, a reference typo and an unsatisfiable rule: three rounds before
    text = (
        MINIMAL_PACK.replace(
            "deadline: {working_days: 5}", "deadline: {workingdays: 5}", 1
        ).replace("on: [concern]", "on: [concerns]")
        + "  - id: impossible\n    citation: demo 1, first\n    on: [failed_contact]\n"
        "    when: {all: [{plan: none}, {plan: child_protection}]}\n    require: [demo.call_back]\n"
    )
    result = run_pipeline(text, "demo.yaml")
    assert [d.code for d in result.errors] == [
        "pack.schema",
        "pack.unknown-trigger",
        "analysis.unsatisfiable",
    ]
    # the rule whose trigger is misspelt is not also called unsatisfiable
    assert "`impossible`" in result.errors[2].message


def test_a_dropped_action_is_not_also_reported_as_unknown() -> None:
    text = MINIMAL_PACK.replace("deadline: {working_days: 5}", "deadline: {workingdays: 5}", 1)
    text = text.replace("on: [concern]", "on: [concerns]")
    codes = [d.code for d in run_pipeline(text, "demo.yaml").errors]
    # `offer_further_appointment` is dropped for its schema problem; the rule requiring it
    # is not reported again as requiring an unknown action
    assert codes == ["pack.schema", "pack.unknown-trigger"]


_RULES = "rules:\n  - id: first"
# (id, edits to the minimal pack, the errors reported after the schema problem). A part
# with a schema problem is dropped; what it defines still counts as defined, by kind, so a
# reference to it is no second error, while an error elsewhere that merely shares its name
# is still reported (the message text decides nothing).
RECOVERY = [
    (
        "a-trigger-named-like-a-dropped-flag",
        [("demo_flag: a flag for tests", "concerns: 7"), ("on: [concern]", "on: [concerns]")],
        ["pack.unknown-trigger"],
    ),
    (
        "a-trigger-named-like-a-dropped-action",
        [
            (
                "  demo.call_back:\n",
                "  demo.x: {title: X, owner: me, category: call, "
                "deadline: soon}\n  demo.call_back:\n",
            ),
            ("on: [concern]", "on: [demo.x]"),
        ],
        ["pack.unknown-trigger"],
    ),
    (
        "an-action-named-like-a-dropped-contact-group",
        [
            ("  harm:\n", "  demo.police: {default: nonsense}\n  harm:\n"),
            (
                "require: [report_significant_harm]",
                "require: [report_significant_harm, demo.police]",
            ),
        ],
        ["pack.unknown-action"],
    ),
    (
        "an-action-named-like-a-dropped-rule",
        [
            (
                "require: [report_significant_harm]",
                "require: [report_significant_harm]\n"
                "  - {id: demo.escalate, citation: demo 1, on: [concern], once: maybe, "
                "require: [demo.call_back]}\n"
                "  - {id: fourth, citation: demo 1, on: [concern], require: [demo.escalate]}",
            )
        ],
        ["pack.unknown-action"],
    ),
    ("a-rule-requiring-a-dropped-action", [("{working_days: 5}", "{workingdays: 5}")], []),
    (
        "a-duty-naming-a-dropped-action",
        [
            ("{working_days: 5}", "{workingdays: 5}"),
            (
                _RULES,
                "duties:\n  - {id: d, citation: demo 1, action: offer_further_appointment, "
                "every: {weeks: 2}, when: {plan: child_protection}, by: {event: home_visit}}\n"
                + _RULES,
            ),
        ],
        [],
    ),
    (
        "an-action-naming-a-dropped-contact-group",
        [('      - {name: Demo duty team, phone: "0100 000000"}', "      - nonsense")],
        [],
    ),
    (
        "a-citation-naming-a-dropped-section",
        [
            (
                '    - {id: "1", title: One}',
                '    - {id: "1", title: One}\n    - {id: "2", title: []}',
            ),
            ("citation: demo 1, harm", "citation: demo 2, harm"),
        ],
        [],
    ),
    (
        "a-condition-naming-a-dropped-flag",
        [
            ("demo_flag: a flag for tests", "demo_flag: 7"),
            ("when: {plan: child_protection}", "when: {flags: {contains: demo_flag}}"),
        ],
        [],
    ),
    (
        "a-condition-naming-a-dropped-pattern",
        [
            ("when: {plan: child_protection}", "when: {patterns: {contains: demo.p}}"),
            (
                _RULES,
                "patterns:\n  - {id: demo.p, title: P, count: {of: {event: concern}, "
                "at_least: many}}\n" + _RULES,
            ),
        ],
        [],
    ),
]


@pytest.mark.parametrize(
    ("edits", "later"), [row[1:] for row in RECOVERY], ids=[row[0] for row in RECOVERY]
)
def test_after_a_schema_problem_only_references_to_the_dropped_part_are_left_out(
    edits: list[tuple[str, str]], later: list[str]
) -> None:
    text = MINIMAL_PACK
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    codes = [d.code for d in run_pipeline(text, "demo.yaml").errors]
    assert codes == ["pack.schema", *later]


def test_loading_and_checking_agree_on_what_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(
        MINIMAL_PACK + "  - id: impossible\n    citation: demo 1, first\n"
        "    on: [failed_contact]\n    when: {all: [{plan: none}, {plan: child_protection}]}\n"
        "    require: [demo.call_back]\n",
        encoding="utf-8",
    )
    checked = [d.code for d in fc.check_file(path) if d.severity is Severity.ERROR]
    with pytest.raises(fc.PackError) as raised:
        fc.load_pack(path)
    assert [d.code for d in raised.value.diagnostics] == checked == ["analysis.unsatisfiable"]


def test_a_reference_problem_outside_every_part_stops_before_the_analysis() -> None:
    # found by the pack fuzzer: a malformed failed-contact outcome left the analysis to
    # work from an outcome it could not split; now the analysis waits for a sound pack
    old = "outcomes: [home_visit.no_response, appointment.not_brought]"
    assert old in MINIMAL_PACK
    text = MINIMAL_PACK.replace(old, "outcomes: [home_visit.no_response, nonsense]")
    result = run_pipeline(text, "demo.yaml")
    assert result.compiled is None and result.errors
    assert {d.code for d in result.errors} <= {"pack.unknown-outcome", "pack.schema"}


# --- messages that misled a policy lead (issue 30) ----------------------------------------------

_DUTY = """duties:
  - id: visits
    citation: demo 1, visits
    action: offer_further_appointment
    every: EVERY
    when: {plan: child_protection}
    by: BY
"""


def _duty(every: str, by: str = "{outcome: child_seen}") -> str:
    return MINIMAL_PACK + _DUTY.replace("EVERY", every).replace("BY", by)


MISLEADING = [
    pytest.param(
        _duty("immediately"),
        "pack.schema",
        "`duties[0].every`: `immediately` is not a length of time: a recurring duty needs the "
        "longest gap allowed",
        "a timescale is one unit: `{working_days: N}`, `{hours: N}`, `{calendar_days: N}`, "
        "`{weeks: N}` or `{months: N}`, N at least 1",
        id="every-immediately",
    ),
    pytest.param(
        _duty("{weeks: 6}", "{concern_levels: {contains: welfare}}"),
        "pack.fact-context",
        "fact `concern_levels` cannot be used in a duty's `by`, which tests one event at a time",
        "`concern_levels` can be used in risk rules, closure conditions, a rule on `as_of` or a "
        "duty's `when`",
        id="case-fact-in-a-duty-by",
    ),
    pytest.param(
        MINIMAL_PACK.replace("    on: [concern]\n", "    on: [as_of]\n"),
        "pack.fact-context",
        "fact `concern_level` cannot be used in a rule on `as_of`, which has no event",
        "`concern_level` can be used in a rule's `when` or conditions on one event (patterns, "
        "a `count`'s `of`, a duty's `starts` and `by`, `completed_by`)",
        id="event-fact-at-as-of",
    ),
    pytest.param(
        MINIMAL_PACK.replace(
            "require: [offer_further_appointment, demo.call_back]",
            "require: [{action: offer_further_appointment, deadline: {working_days: -3}}]",
        ),
        "pack.schema",
        "`rules[0].require[0].deadline.working_days`: must be at least 1 (got `-3`)",
        "for no time at all, write `deadline: immediately`",
        id="negative-working-days-once",
    ),
    pytest.param(
        MINIMAL_PACK.replace(
            "require: [report_significant_harm]", "require: report_significant_harm"
        ),
        "pack.schema",
        "`rules[1].require`: must be a list, not one word (got `report_significant_harm`)",
        "write it in brackets: `require: [report_significant_harm]`",
        id="require-one-word",
    ),
]


@pytest.mark.parametrize(("text", "code", "message", "help"), MISLEADING)
def test_a_mistake_gets_one_true_message(text: str, code: str, message: str, help: str) -> None:
    errors = [d for d in run_pipeline(text, "demo.yaml").diagnostics
              if d.severity is Severity.ERROR]  # fmt: skip
    assert [(str(d.code), d.message, d.help) for d in errors] == [(code, message, help)]
    assert "constrained-str" not in message and "valid tuple" not in message


def test_a_copied_pack_with_a_new_id_says_so_once_with_the_way_out() -> None:
    text = (Path(__file__).resolve().parents[1] / "policies" / "north_lincs.yaml").read_text(
        encoding="utf-8"
    )
    text = text.replace("id: north_lincs\n", "id: west_shire\n", 1)
    errors = [d for d in run_pipeline(text, "west_shire.yaml").diagnostics
              if d.severity is Severity.ERROR]  # fmt: skip
    assert [(str(d.code), d.help) for d in errors] == [
        ("pack.action-id", "name the pack's own actions "
         "`west_shire.consider_earlier_review_conference` (and rename it wherever it is required)"),
        ("pack.action-id", "name the pack's own actions `west_shire.communicate_to_needs` "
         "(and rename it wherever it is required)"),
        ("pack.citation", "replace `north_lincs ` with `west_shire ` in every citation; "
         "`failedcontact new-area west_shire --from north_lincs` starts a new area with every "
         "id renamed"),
    ]  # fmt: skip
    assert errors[2].message == (
        "59 citations start with `north_lincs`, not this pack's id `west_shire`"
    )
