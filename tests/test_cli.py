"""The command line: exit codes, error text, batch behaviour, schemas and pack checks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from failedcontact.cli import app

from .conftest import Cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
AS_OF = "2026-11-25T09:00:00+00:00"


@dataclass(frozen=True)
class Ran:
    """What a command printed and its exit status."""

    returncode: int
    stdout: str
    stderr: str


def run(*args: str, stdin: str | None = None) -> Ran:
    """Run the command line in this process (a real process only where it matters: below)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner(env={"COLUMNS": "160"}).invoke(
            app, list(args), input=stdin, catch_exceptions=False
        )
    finally:
        os.chdir(cwd)
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command in a real process: the smoke tests."""
    return subprocess.run([sys.executable, "-m", "failedcontact", *args], capture_output=True,
                          text=True, cwd=ROOT, check=False)  # fmt: skip


# Each example is written for one area's pack (the others are North Lincolnshire's).
_EXAMPLE_PACK = {
    "luton_concern.json": "pan_beds",
    "derbyshire_child_alone.json": "derbyshire",
    "ne_lincs_protection_plan.json": "ne_lincs",
    "suffolk_not_engaging.json": "suffolk",
}


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_each_example_gives_contract_json(example: Path) -> None:
    pack = _EXAMPLE_PACK.get(example.name, "north_lincs")
    result = run("assess", "--pack", pack, "--as-of", AS_OF, str(example))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["contract"] == "1.2"
    assert document["case_id"] == json.loads(example.read_text())["case_id"]


def test_stdin_and_table_format() -> None:
    text = (EXAMPLES / "second_no_access.json").read_text()
    result = run(
        "assess", "--pack", "north_lincs", "--as-of", AS_OF, "--format", "table", "-", stdin=text
    )
    assert result.returncode == 0, result.stderr
    assert "Offer the family a further appointment" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_bad_case_exits_2_naming_the_field() -> None:
    case = {
        "case_id": "B",
        "events": [{"at": "2026-11-23T10:00", "type": "home_visit", "outcome": "gone"}],
    }
    result = run("assess", "--pack", "north_lincs", "--as-of", AS_OF, "-", stdin=json.dumps(case))
    assert result.returncode == 2
    assert "events[0].outcome" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [("not json", "invalid json"), ("", "invalid json"), ("[]", "object")],
    ids=["garbage", "empty", "list"],
)
def test_unparseable_input_exits_2(stdin: str, expected: str) -> None:
    result = run("assess", "--pack", "north_lincs", "-", stdin=stdin)
    assert result.returncode == 2
    assert expected in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_missing_case_file_exits_5() -> None:
    result = run("assess", "--pack", "north_lincs", "no/such/case.json")
    assert result.returncode == 5
    assert "no/such/case.json" in result.stderr


def test_bad_as_of_is_a_usage_error() -> None:
    result = run("assess", "--pack", "north_lincs", "--as-of", "tuesday", "-", stdin="{}")
    assert result.returncode == 64
    assert "--as-of" in result.stderr


def test_unknown_pack_exits_3() -> None:
    result = run("assess", "--pack", "north_linc", "-", stdin="{}")
    assert result.returncode == 3
    assert "north_lincs" in result.stderr


def test_broken_pack_exits_3_with_location() -> None:
    broken = "policies/tests/north_lincs/broken/unknown_action.yaml"
    result = run("assess", "--pack", broken, "-", stdin='{"case_id": "x"}')
    assert result.returncode == 3
    assert f"{broken}:38:9" in result.stderr
    assert "Traceback" not in result.stderr


def test_jsonl_all_good_exits_0() -> None:
    good = json.dumps({"case_id": "A"})
    result = run("assess", "--pack", "north_lincs", "--jsonl", "-", stdin=f"{good}\n{good}\n")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2


@pytest.mark.parametrize("name", ["case", "assessment", "pack"])
def test_schema(name: str) -> None:
    result = run("schema", name)
    assert result.returncode == 0
    assert json.loads(result.stdout)["type"] == "object"


def test_packs_lists_bundled_packs() -> None:
    result = run("packs")
    assert result.returncode == 0
    for pack in ("north_lincs", "pan_beds", "ne_lincs", "derbyshire", "suffolk"):
        assert pack in result.stdout
    for issued in ("2018-12", "undated", "2024-04-05", "2020-11", "2017-09-01"):
        assert issued in result.stdout


def test_check_clean_and_broken() -> None:
    assert run("check", "policies/north_lincs.yaml").returncode == 0
    result = run("check", "policies/tests/north_lincs/broken/unknown_action.yaml")
    assert result.returncode == 3
    assert result.stderr.count("pack.unknown-action") == 2
    as_json = run(
        "check", "--format", "json", "policies/tests/north_lincs/broken/unknown_action.yaml"
    )
    assert as_json.returncode == 3
    [report] = json.loads(as_json.stdout)
    assert {d["code"] for d in report["diagnostics"]} == {"pack.unknown-action"}


def test_check_reports_coverage_and_strict_fails_on_warnings(tmp_path: Path) -> None:
    text = (ROOT / "policies" / "north_lincs.yaml").read_text(encoding="utf-8")
    reason = "      not_actionable: general record-keeping standards"
    assert reason in text
    pack = tmp_path / "north_lincs.yaml"
    pack.write_text(text.replace(reason, "      # reason removed"), encoding="utf-8")
    lenient = run("check", str(pack))
    assert lenient.returncode == 0
    assert "pack.uncovered-section" in lenient.stderr and "`records`" in lenient.stderr
    assert run("check", "--strict", str(pack)).returncode == 3
    clean = run("check", "--format", "json", "north_lincs")
    [report] = json.loads(clean.stdout)
    assert report["diagnostics"] == []
    assert report["coverage"]["6a"] and report["coverage"]["records"] is None


@pytest.mark.parametrize("pack", ["north_lincs", "pan_beds", "ne_lincs", "derbyshire", "suffolk"])
def test_assess_runs_every_bundled_pack(pack: str) -> None:
    result = run(
        "assess", "--pack", pack, "--as-of", AS_OF, str(EXAMPLES / "second_no_access.json")
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["pack"]["id"] == pack


def test_fmt_keeps_comments_and_check_reports_changes(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text("# keep me\nid: demo   # and me\nlist:\n- a\n-   b\nempty: null\n", "utf-8")
    assert run("fmt", "--check", str(pack)).returncode == 1
    assert run("fmt", str(pack)).returncode == 0
    text = pack.read_text("utf-8")
    assert text == "# keep me\nid: demo   # and me\nlist:\n  - a\n  - b\nempty: null\n"
    assert run("fmt", "--check", str(pack)).returncode == 0


def test_bundled_packs_and_scenarios_are_formatted() -> None:
    files = [str(p) for p in sorted((ROOT / "policies").rglob("*.yaml"))]
    result = run("fmt", "--check", *files)
    assert result.returncode == 0, result.stdout


def _scenario_file(tmp_path: Path, due: str) -> Path:
    path = tmp_path / "north_lincs" / "s.yaml"
    path.parent.mkdir()
    path.write_text(
        "pack: north_lincs\n"
        "scenarios:\n"
        "  - name: first visit deadline\n"
        "    section: north_lincs 6a\n"
        '    as_of: "2026-11-24T09:00:00+00:00"\n'
        "    case:\n"
        "      case_id: T\n"
        '      events: [{at: "2026-11-23T10:00:00", type: home_visit, outcome: no_response}]\n'
        "    expect:\n"
        f'      actions: {{offer_further_appointment: {{due: "{due}"}}}}\n'
        "  - name: another\n"
        "    section: north_lincs 6a\n"
        '    as_of: "2026-11-24T09:00:00+00:00"\n'
        "    case: {case_id: U}\n"
        "    expect: {failed_contacts: 0}\n",
        encoding="utf-8",
    )
    return path


def test_test_command_reports_failures_with_location_and_diff(tmp_path: Path) -> None:
    path = _scenario_file(tmp_path, "2026-11-29T23:59:59+00:00")
    result = run("test", str(path))
    assert result.returncode == 1
    assert f"FAIL {path}:3: first visit deadline" in result.stdout
    assert "- expected: 2026-11-29T23:59:59+00:00" in result.stdout
    assert "+ actual:   2026-11-30T23:59:59+00:00" in result.stdout
    assert "1 passed, 1 failed" in result.stdout


def test_test_command_run_filter_json_and_min_coverage(tmp_path: Path) -> None:
    path = _scenario_file(tmp_path, "2026-11-30T23:59:59+00:00")
    result = run("test", "--format", "json", "--run", "deadline", str(path))
    assert result.returncode == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["passed"] == 1 and document["failed"] == 0
    assert document["coverage"]["north_lincs"]["percent"] < 100
    low = run("test", "--min-coverage", "90", str(path))
    assert low.returncode == 1
    assert "below 90%" in low.stderr


@pytest.mark.parametrize("percent", ["101", "-1"])
def test_min_coverage_outside_0_to_100_is_a_usage_error(cli: Cli, percent: str) -> None:
    result = cli("test", "--min-coverage", percent, "policies/tests/north_lincs")
    assert result.exit_code == 64
    assert "Invalid value for '--min-coverage'" in result.stderr


def test_test_command_bundled_suite_has_full_coverage() -> None:
    result = run("test", "--min-coverage", "100")
    assert result.returncode == 0, result.stdout + result.stderr


def test_explain_says_why_in_plain_english() -> None:
    result = run("explain", "--pack", "north_lincs", "--as-of", AS_OF,
                 str(EXAMPLES / "child_protection_concern.json"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert (
        "HIGH risk: 1 overdue" in text
        and "because the child is subject to a child protection plan" in text
    )
    assert "[OVERDUE] Report the concern at once" in text
    assert "Call North Lincolnshire Children's Services on 01724 296500" in text
    assert "(north_lincs 6c)" in text
    assert "Pattern to watch: Disguised compliance" in text
    assert "says nothing about closing" in text


def test_explain_lists_what_blocks_closure() -> None:
    case = {"case_id": "S", "service": "early_help"}
    result = run("explain", "--pack", "suffolk", "--as-of", AS_OF, "-", stdin=json.dumps(case))
    assert result.returncode == 0, result.stderr
    assert "may not close yet" in result.stdout
    assert "a letter sent after the calls" in result.stdout


def test_diff_north_lincs_pan_beds_shows_the_real_differences_only() -> None:
    result = run("diff", "--format", "json", "north_lincs", "pan_beds")
    assert result.returncode == 1, result.stderr  # they differ, as diff(1) says
    found = {(d["category"], d["subject"]) for d in json.loads(result.stdout)["differences"]}
    # Both cover pregnant women (north_lincs 5c, pan_beds introduction); only Pan Beds
    # defines 'No Access' (kept appointments, access unreasonably denied): docs/decisions.md.
    assert found == {
        ("failed contacts", "`appointment.cancelled_by_family` counts as a failed contact"),
        ("failed contacts", "`home_visit.child_not_seen` counts as a failed contact"),
        ("contacts", "`report_significant_harm` contacts"),
        ("actions", "`request_joint_visit_with_housing_officer` required"),
    }


def test_diff_two_versions_ignores_wording_and_shows_a_timescale_change(tmp_path: Path) -> None:
    text = (ROOT / "policies" / "north_lincs.yaml").read_text(encoding="utf-8")
    reworded = tmp_path / "reworded.yaml"
    reworded.write_text(
        text.replace("title: Offer the family a further appointment",
                     "title: Offer another appointment")
        .replace("citation: north_lincs 6a, first no access visit",
                 "citation: north_lincs 6a, first visit with no access"),
        encoding="utf-8",
    )  # fmt: skip
    same = run("diff", "--format", "json", "north_lincs", str(reworded))
    assert json.loads(same.stdout)["differences"] == []
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("deadline: {working_days: 5}", "deadline: {working_days: 3}"),
                       encoding="utf-8")  # fmt: skip
    result = json.loads(run("diff", "--format", "json", "north_lincs", str(changed)).stdout)
    assert result["differences"] == [
        {
            "category": "actions",
            "subject": "`offer_further_appointment` timescale",
            "left": "within 5 working days",
            "right": "within 3 working days",
        }
    ]


def test_diff_shows_duty_and_completion_evidence_changes(tmp_path: Path) -> None:
    recipe = ROOT / "docs" / "cookbook" / "visit_frequency.yaml"
    text = recipe.read_text(encoding="utf-8")
    changed = tmp_path / "visit_frequency.yaml"
    changed.write_text(text.replace("every: {weeks: 6}", "every: {weeks: 4}"), encoding="utf-8")
    result = run("diff", "--format", "json", str(recipe), str(changed))
    differences = json.loads(result.stdout)["differences"]
    duty = [d for d in differences if d["category"] == "duties"]
    assert len(duty) == 1 and "every 6 weeks" in duty[0]["left"], differences
    assert "every 4 weeks" in duty[0]["right"]

    recipe = ROOT / "docs" / "cookbook" / "completed_by_visit.yaml"
    text = recipe.read_text(encoding="utf-8")
    changed = tmp_path / "completed_by_visit.yaml"
    changed.write_text(
        text.replace("channel: {in: [letter, text, email]}", "channel: {in: [letter, card]}"),
        encoding="utf-8",
    )
    differences = json.loads(run("diff", "--format", "json", str(recipe), str(changed)).stdout)[
        "differences"
    ]
    assert [d["subject"] for d in differences] == ["`send_no_access_letter` completed by"]
    assert "`card`" in differences[0]["right"] and "`card`" not in differences[0]["left"]


def test_jsonl_lines_end_at_newline_only_and_bad_utf8_is_reported(tmp_path: Path) -> None:
    # U+2028, U+2029 and U+0085 are legal inside JSON strings: they must not split a line.
    separators = {"case_id": "A-1\u2028\u2029\u0085"}
    stream = tmp_path / "cases.jsonl"
    stream.write_bytes(
        json.dumps(separators, ensure_ascii=False).encode("utf-8")
        + b"\n"
        + b'{"case_id": "B-\xff"}\n'
        + b'{"case_id": "C-3"}\r\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "failedcontact", "assess", "--pack", "north_lincs",
         "--as-of", AS_OF, "--jsonl", str(stream)],
        capture_output=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    out = result.stdout.decode().split("\n")  # not splitlines(): it splits on U+2028 too
    records = [json.loads(line) for line in out if line]
    assert [r.get("case_id") for r in records] == [separators["case_id"], None, "C-3"]
    assert records[1] == {"line": 2, "errors": [
        {"path": "", "message": "not valid UTF-8 at byte 16 of the line"}]}  # fmt: skip
    assert "line 2: not valid UTF-8 at byte 16 of the line" in result.stderr.decode()


def test_smoke_the_installed_command_in_a_real_process() -> None:
    version = run_process("--version")
    assert version.returncode == 0 and version.stdout.startswith("failedcontact ")
    # which build is installed: the compiled engine (hatch_build.py) or plain Python
    assert re.search(r"\(contract 1\.2, engine (compiled|pure Python)\)$", version.stdout.strip())
    assessed = run_process("assess", "--pack", "north_lincs", "--as-of", AS_OF,
                           str(EXAMPLES / "second_no_access.json"))  # fmt: skip
    assert assessed.returncode == 0 and json.loads(assessed.stdout)["contract"] == "1.2"


def test_smoke_a_usage_mistake_in_a_real_process_exits_64() -> None:
    result = run_process("assess", "--no-such-option")
    assert result.returncode == 64 and "No such option" in result.stderr


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("test", "no/such/folder"), 5, "no scenario files at `no/such/folder`"),
        (("test", "examples"), 5, "no scenario files at `examples`"),
        (
            ("test", "policies/tests/north_lincs/plans.yaml", "--run", "no-scenario-has-this-name"),
            1,
            "no scenario matches",
        ),
        (("test", "--run", "("), 64, "--run"),
    ],
    ids=["missing-path", "no-scenario-files", "filter-matches-nothing", "bad-regex"],
)
def test_test_never_passes_by_running_nothing(args: tuple[str, ...], status: int,
                                             message: str) -> None:  # fmt: skip
    result = run(*args)
    assert result.returncode == status, result.stdout + result.stderr
    assert message in result.stdout + result.stderr


def test_packs_lists_every_pack_as_json() -> None:
    result = run("packs", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} >= {"north_lincs", "pan_beds", "ne_lincs", "derbyshire",
                                       "suffolk"}  # fmt: skip
    north = next(r for r in rows if r["id"] == "north_lincs")
    assert north["file"] == "policies/north_lincs.yaml" and north["origin"] == "working tree"
    assert north["digest"].startswith("sha256:") and north["source"]["issued"] == "2018-12"


@pytest.mark.parametrize("form", ["markdown", "json"])
def test_explain_in_other_formats_says_the_same_thing(form: str) -> None:
    text = run("explain", "--pack", "north_lincs", "--as-of", AS_OF,
               str(EXAMPLES / "second_no_access.json"))  # fmt: skip
    other = run("explain", "--pack", "north_lincs", "--as-of", AS_OF, "--format", form,
                str(EXAMPLES / "second_no_access.json"))  # fmt: skip
    assert text.returncode == other.returncode == 0, other.stderr
    first = "Do first: Offer the family a further appointment (due Mon 30 Nov 23:59)."
    assert first in text.stdout
    if form == "json":
        view = json.loads(other.stdout)
        assert view["first_line"] == first and view["risk_tier"] == "medium"
        step = view["groups"][0]["steps"][0]
        assert step["due"] == "2026-11-30T23:59:59+00:00"
    else:
        assert f"**{first}**" in other.stdout and "### " in other.stdout


def test_explain_markdown_escapes_html_in_the_case_id(cli: Cli, tmp_path: Path) -> None:
    """A Markdown viewer renders inline HTML; the case id is the caller's text."""
    case = json.loads((EXAMPLES / "second_no_access.json").read_text(encoding="utf-8"))
    case["case_id"] = "<script>alert(1)</script>&"
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    result = cli("explain", "--pack", "north_lincs", "--as-of", AS_OF, "-f", "markdown", str(path))
    assert result.exit_code == 0, result.stderr
    assert "<script>" not in result.stdout
    assert "(case &lt;script&gt;alert(1)&lt;/script&gt;&amp;, north_lincs 1.2.0," in result.stdout


@pytest.mark.parametrize("where", ["report", "decision-log"])
def test_an_unwritable_output_is_exit_4_in_process_too(
    cli: Cli, tmp_path: Path, where: str
) -> None:
    """Under a test runner stdout has no file descriptor; the failure is still reported."""
    common = ("--pack", "north_lincs", "--as-of", AS_OF, str(EXAMPLES / "second_no_access.json"))
    if where == "report":
        result = cli("report", *common, "-o", str(tmp_path))  # a folder, not a file
    else:
        result = cli("assess", *common, "--decision-log", str(tmp_path / "no" / "log.jsonl"))
    assert result.exit_code == 4
    assert "error: cannot write the output" in result.stderr


def test_fmt_diff_shows_the_change_and_changes_nothing(tmp_path: Path) -> None:
    messy = tmp_path / "pack.yaml"
    messy.write_text("id: demo\nsource:\n    title: x   # kept\n", encoding="utf-8")
    before = messy.read_text(encoding="utf-8")
    result = run("fmt", "--diff", str(messy))
    assert result.returncode == 1
    assert "-    title: x   # kept" in result.stdout and "+  title: x     # kept" in result.stdout
    assert messy.read_text(encoding="utf-8") == before
    tidy = run("fmt", str(messy))
    assert tidy.returncode == 0 and run("fmt", "--diff", str(messy)).returncode == 0


def test_a_missing_file_is_named_as_written() -> None:
    result = run("check", "Policies/North_Lincs.YAML")
    assert result.returncode == 3
    assert "`Policies/North_Lincs.YAML`" in result.stderr  # the path keeps its case


def _skip_input() -> str:
    good = [json.dumps({"case_id": f"S-{n}"}) for n in range(1, 5)]
    return "\n".join([good[0], good[1], '{"case_id": "BAD", "events": [{"type": "visit"}]}',
                      good[2], good[3]]) + "\n"  # fmt: skip


def test_skip_passes_over_the_first_lines_keeping_the_line_numbers() -> None:
    args = ("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", "-", "--workers", "1")
    whole = run(*args, stdin=_skip_input())
    rest = run(*args, "--skip", "2", stdin=_skip_input())
    assert rest.returncode == whole.returncode == 2
    assert rest.stdout.splitlines() == whole.stdout.splitlines()[2:]
    assert json.loads(rest.stdout.splitlines()[0])["line"] == 3  # numbered as in the input
    assert "line 3: " in rest.stderr
    assert "assessed 3 line(s) after skipping the first 2: 2 case(s), 1 invalid" in rest.stderr
    table = run(*args, "--format", "table", "--skip", "3", stdin=_skip_input())
    assert table.returncode == 0 and "S-3" in table.stdout and "S-1" not in table.stdout
    assert run(*args, "--skip", "9", stdin=_skip_input()).stdout == ""


def test_skip_into_a_table_of_assessments(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "out.parquet"
    result = run("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", "-",
                 "--workers", "1", "--skip", "3", "-o", str(out), stdin=_skip_input())  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert pq.read_table(out).column("case_id").to_pylist() == ["S-3", "S-4"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--jsonl", "--skip", "-1"), "error: --skip -1: the number of input lines to pass "
         "over cannot be negative"),
        (("--skip", "1"), "error: --skip passes over the first lines of a batch: it needs "
         "--jsonl"),
    ],
    ids=["negative", "one-case"],
)  # fmt: skip
def test_skip_is_a_usage_error_when_negative_or_not_a_batch(
    extra: tuple[str, ...], message: str
) -> None:
    result = run("assess", "--pack", "north_lincs", "-", *extra, stdin=_skip_input())
    assert result.returncode == 64 and message in result.stderr, result.stderr
    assert result.stdout == ""
