"""The decision log (`assess --decision-log`) and `failedcontact replay`."""

from __future__ import annotations

import json
import logging
import random
import shutil
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
import pytest

import failedcontact as fc
from failedcontact.errors import UsageError
from failedcontact.model.case import UK
from failedcontact.runs.decision_log import (
    ChainCheck,
    DecisionLog,
    LogOptions,
    answer_digest,
    case_digest,
    decision_line,
    masked_copy,
)
from failedcontact.runs.releases import load_shelf
from failedcontact.runs.replay import replay

from .conftest import ROOT, Cli
from .random_cases import random_case

AS_OF = "2026-11-25T09:00:00+00:00"
EXAMPLE = str(ROOT / "examples" / "second_no_access.json")


def _write_cases(path: Path, count: int, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cases = [random_case(rng, number) for number in range(count)]
    path.write_bytes(b"".join(orjson.dumps(case) + b"\n" for case in cases))
    return cases


def _log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_decision_line_records_what_decided_the_answer(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, EXAMPLE,
                 "--decision-log", str(log))  # fmt: skip
    assert result.exit_code == 0, result.output
    [line] = _log_lines(log)
    assessment = json.loads(result.stdout)
    case = json.loads(Path(EXAMPLE).read_text(encoding="utf-8"))
    assert set(line) == {"time", "request_id", "pack", "engine", "as_of", "case_sha256",
                         "assessment_digest", "seq", "chain"}  # fmt: skip
    assert line["seq"] == 1 and line["chain"].startswith("sha256:")
    assert line["pack"] == assessment["pack"]
    assert line["engine"] == {"library": fc.__version__, "holidays": version("holidays")}
    assert line["as_of"] == AS_OF
    assert line["case_sha256"] == case_digest(case)
    assert line["assessment_digest"] == answer_digest(assessment)
    assert "C-1042" not in log.read_text(encoding="utf-8")  # no case content unless asked


def test_the_digests_ignore_key_order_and_provenance() -> None:
    assert case_digest({"a": 1, "b": [{"y": 2, "x": 1}]}) == case_digest(
        {"b": [{"x": 1, "y": 2}], "a": 1}
    )
    answer = {"case_id": "C", "pack": {"digest": "sha256:1"}, "engine": {"library": "1"}}
    moved = {"case_id": "C", "pack": {"digest": "sha256:2"}, "engine": {"library": "2"}}
    assert answer_digest(answer) == answer_digest(moved)
    assert answer_digest(answer) != answer_digest({**answer, "case_id": "D"})


def test_a_logged_case_has_its_named_fields_masked(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"case_id": "SECRET-1", "events": [
        {"at": "2026-11-20T10:00:00", "type": "service_refused", "reason": "moved to Leeds"},
        {"at": "2026-11-21T10:00:00", "type": "home_visit", "outcome": "no_response"},
    ]}) + "\n", encoding="utf-8")  # fmt: skip
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", str(cases),
                 "--workers", "1", "--decision-log", str(log), "--log-case",
                 "--log-mask", "case_id", "--log-mask", "events[].reason")  # fmt: skip
    assert result.exit_code == 0, result.output
    text = log.read_text(encoding="utf-8")
    assert "SECRET-1" not in text and "Leeds" not in text
    [line] = _log_lines(log)
    assert line["masked"] == ["case_id", "events[].reason"]
    assert line["case"]["case_id"] == "***"
    assert line["case"]["events"][0]["reason"] == "***"
    assert line["case"]["events"][1] == {"at": "2026-11-21T10:00:00", "type": "home_visit",
                                         "outcome": "no_response"}  # fmt: skip


@pytest.mark.parametrize(
    ("paths", "hit"),
    [
        (["child.date_of_birth"], ["child.date_of_birth"]),
        (["child.missing"], []),
        (["events[].agency"], []),
    ],
    ids=["nested", "absent-field", "absent-in-every-item"],
)
def test_masking_reports_only_the_paths_it_found(paths: list[str], hit: list[str]) -> None:
    case = {"case_id": "C", "child": {"date_of_birth": "2020-01-01"}, "events": [{"a": 1}]}
    copy, found = masked_copy(case, paths)
    assert found == hit
    assert case["child"] == {"date_of_birth": "2020-01-01"}  # the original is untouched
    if hit:
        assert copy["child"]["date_of_birth"] == "***"


@pytest.mark.parametrize("path", ["", "child.", ".x", "events[]..a"])
def test_a_malformed_mask_path_is_refused(path: str) -> None:
    with pytest.raises(UsageError, match="is not a field path"):
        LogOptions(include_case=True, mask=(path,))


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("nope", None),
        ("events[0].at", None),
        ("events[].reasn", "events[].reason"),
        ("child.date_of_brith", "child.date_of_birth"),
        ("events[]", None),
    ],
)
def test_a_mask_path_that_names_no_case_field_is_refused(path: str, hint: str | None) -> None:
    """A misspelt mask would hide nothing and log the field it was meant to hide."""
    with pytest.raises(UsageError, match="is not a field of the case") as caught:
        LogOptions(include_case=True, mask=(path,))
    if hint is not None:
        assert f"did you mean `{hint}`?" in str(caught.value)


def test_every_case_field_can_be_masked() -> None:
    case = json.loads(Path(EXAMPLE).read_text(encoding="utf-8"))
    paths = ("child.date_of_birth", "events[].outcome", "household.local_authority", "case_id")
    options = LogOptions(include_case=True, mask=paths)
    copy, hit = masked_copy(case, options.mask)
    assert hit == list(options.mask)
    assert {event["outcome"] for event in copy["events"] if "outcome" in event} == {"***"}


def test_assess_refuses_a_misspelt_mask(cli: Cli, tmp_path: Path) -> None:
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, EXAMPLE,
                 "--decision-log", str(tmp_path / "log.jsonl"), "--log-case",
                 "--log-mask", "child.dob")  # fmt: skip
    assert result.exit_code == 64
    assert "`child.dob` is not a field of the case" in result.output
    assert not (tmp_path / "log.jsonl").exists()


def test_log_options_without_the_case_need_no_command(cli: Cli, tmp_path: Path) -> None:
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, EXAMPLE, "--log-case")
    assert result.exit_code == 64
    assert "--log-case and --log-mask need --decision-log" in result.output


def test_the_batch_logs_every_good_line_and_no_bad_one(cli: Cli, tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    written = _write_cases(cases, 300)
    with cases.open("ab") as stream:
        stream.write(b'{"case_id": "BAD", "events": [{"type": "visit"}]}\n')
    log = tmp_path / "decisions.jsonl"
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", str(cases),
                 "--workers", "2", "--decision-log", str(log))  # fmt: skip
    assert result.exit_code == 2  # the one bad line
    lines = _log_lines(log)
    assert len(lines) == 300
    assert [line["case_sha256"] for line in lines] == [case_digest(c) for c in written]
    run = lines[0]["request_id"].split("#")[0]
    assert [line["request_id"] for line in lines] == [f"{run}#{n}" for n in range(1, 301)]
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["assessment_digest"] for line in lines] == [
        answer_digest(output) for output in outputs[:300]
    ]


def _log_of(cli: Cli, tmp_path: Path, count: int) -> tuple[Path, Path, list[dict[str, Any]]]:
    cases = tmp_path / "cases.jsonl"
    written = _write_cases(cases, count)
    log = tmp_path / "decisions.jsonl"
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl", str(cases),
                 "--decision-log", str(log), "-o", str(tmp_path / "out.jsonl"))  # fmt: skip
    assert result.exit_code == 0, result.output
    return log, cases, written


def _edited_packs(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    folder.mkdir()
    text = (ROOT / "policies" / "north_lincs.yaml").read_text(encoding="utf-8")
    before = "    deadline: {working_days: 5}\n    citation: north_lincs 6a\n"
    assert text.count(before) == 1  # offer_further_appointment's timescale (6a)
    edited = text.replace(before, before.replace("5", "10", 1))
    (folder / "north_lincs.yaml").write_text(edited, encoding="utf-8")
    return folder


def _five_working_days_after(trigger: str) -> date:
    calendar = fc.WorkingCalendar("GB", "ENG")
    return calendar.add_working_days(datetime.fromisoformat(trigger).date(), 5)


def _replay_scenario(cli: Cli, tmp_path: Path, count: int) -> None:
    log, cases, written = _log_of(cli, tmp_path, count)
    clean = cli("replay", str(log), "--cases", str(cases), "--format", "json")
    assert clean.exit_code == 0, clean.output
    report = json.loads(clean.stdout)
    assert (report["decisions"], report["same"], report["differ"]) == (count, count, 0)

    # the decisions the edit must change: those whose answer carries the 6a appointment with
    # the 5-working-day timescale (not one a rule gives another deadline, nor one done)
    north_lincs = fc.load_pack("north_lincs")
    expected = []
    for number, case in enumerate(written, start=1):
        answer = north_lincs.assess(case, datetime.fromisoformat(AS_OF))
        for action in answer.actions:
            if action.id == "offer_further_appointment" and action.due is not None:
                trigger = action.trigger.at.astimezone(UK).isoformat()
                if action.due.date() == _five_working_days_after(trigger):
                    expected.append(number)
    assert 0 < len(expected) < count

    changed = cli("replay", str(log), "--cases", str(cases), "--packs",
                  str(_edited_packs(tmp_path)), "--format", "json")  # fmt: skip
    assert changed.exit_code == 1
    report = json.loads(changed.stdout)
    assert [d["line"] for d in report["differences"]] == expected
    assert report["same"] == count - len(expected)
    for difference in report["differences"]:
        assert len(difference["reasons"]) == 1
        assert difference["reasons"][0].startswith("pack changed: north_lincs 1.2.0")


def test_replay_is_clean_and_names_exactly_what_a_timescale_edit_changed(
    cli: Cli, tmp_path: Path
) -> None:
    _replay_scenario(cli, tmp_path, 200)


@pytest.mark.slow
def test_replay_of_ten_thousand_decisions(cli: Cli, tmp_path: Path) -> None:
    _replay_scenario(cli, tmp_path, 10_000)


def test_replay_names_a_library_or_calendar_change(tmp_path: Path) -> None:
    shelf = load_shelf(ROOT / "policies").shelf
    assert shelf is not None
    pack = shelf.get("north_lincs")
    case = random_case(random.Random(1), 1)
    case["events"] = [{"at": "2026-11-20T10:00:00+00:00", "type": "home_visit",
                       "outcome": "no_response"}]  # fmt: skip
    plain = json.loads(pack.assess(case, datetime.fromisoformat(AS_OF)).model_dump_json())
    line = json.loads(decision_line(plain, case, LogOptions(include_case=True), "r-1"))
    assert replay([orjson.dumps(line)], shelf).clean
    # an answer logged by another library and holidays release that now comes out otherwise
    line["engine"] = {"library": "0.0.1", "holidays": "0.1"}
    line["assessment_digest"] = "sha256:" + "0" * 64
    report = replay([orjson.dumps(line)], shelf)
    [difference] = report.differences
    assert difference.reasons == (
        f"library changed: 0.0.1 is now {fc.__version__}",
        f"calendar changed: holidays 0.1 is now {version('holidays')}",
    )
    # the same pack, library and calendar but another answer: a bug, said as such
    line["engine"] = plain["engine"]
    [difference] = replay([orjson.dumps(line)], shelf).differences
    assert difference.reasons[0].startswith("unexplained")


def test_replay_says_why_each_line_was_not_replayed(tmp_path: Path) -> None:
    shelf = load_shelf(ROOT / "policies").shelf
    assert shelf is not None
    case = {"case_id": "C", "events": []}
    plain = json.loads(shelf.get("north_lincs").assess(case, datetime.fromisoformat(AS_OF))
                       .model_dump_json())  # fmt: skip
    whole = decision_line(plain, case, LogOptions(include_case=True, mask=("case_id",)), "r")
    unknown = orjson.loads(decision_line(plain, case, LogOptions(include_case=True), "r"))
    unknown["pack"]["id"] = "nowhere"
    report = replay([whole, whole[:40], orjson.dumps(unknown),
                     decision_line(plain, case, LogOptions(), "r")], shelf)  # fmt: skip
    whys = [(s.line, s.why.split(":")[0]) for s in report.skipped]
    assert whys == [
        (1, "its case was logged with masked fields"),
        (2, "not a whole decision line (JSONDecodeError"),
        (3, "unknown pack `nowhere`; packs served"),
        (4, "no case"),
    ]
    assert not report.clean and report.decisions == 4


def test_the_log_is_appended_to_in_whole_lines_by_many_writers(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "log.jsonl"
    logs = [DecisionLog(path) for _ in range(4)]  # as separate processes would open it

    def write(log: DecisionLog, mark: int) -> None:
        for number in range(500):
            log.write(orjson.dumps({"writer": mark, "n": number, "pad": "x" * 3000}) + b"\n")

    threads = [threading.Thread(target=write, args=(log, i)) for i, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for log in logs:
        log.close()
    lines = [json.loads(line) for line in path.read_bytes().splitlines()]
    assert len(lines) == 2000
    for mark in range(4):
        assert [line["n"] for line in lines if line["writer"] == mark] == list(range(500))
    # one chain through all of them, however the writers took turns
    chain = ChainCheck()
    assert [chain.check(n, line) for n, line in enumerate(lines, 1)] == [("ok", None)] * 2000
    assert [line["seq"] for line in lines] == list(range(1, 2001))


def test_replay_refuses_a_packs_folder_that_does_not_load(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text("", encoding="utf-8")
    folder = tmp_path / "packs"
    folder.mkdir()
    shutil.copy(ROOT / "policies" / "north_lincs.yaml", folder / "a.yaml")
    text = (ROOT / "policies" / "north_lincs.yaml").read_text(encoding="utf-8")
    (folder / "b.yaml").write_text(text.replace("Offer the family", "Offer them"), "utf-8")
    result = cli("replay", str(log), "--packs", str(folder))
    assert result.exit_code == 3
    assert "error[pack.duplicate-release]" in result.output


def test_a_torn_line_mended_is_said_once_on_stderr_and_not_through_the_logger(
    cli: Cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`DecisionLog.warnings` printed by the command line; the module's own logger (which,
    unconfigured, prints on stderr too) says nothing while the command has the log open."""
    log = tmp_path / "decisions.jsonl"
    log.write_bytes(b'{"time": "2026-11-22T19:40:48')  # a writer killed mid-line
    with caplog.at_level(logging.WARNING, "failedcontact.runs.decision_log"):
        result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF, EXAMPLE,
                     "--decision-log", str(log))  # fmt: skip
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if "torn line" in line]
    assert said == [
        f"warning: the decision log `{log}` ended in a torn line (29 bytes from byte 0, with "
        "no newline: a writer was killed mid-line, or the disk was full); ended it with a "
        "newline so the next decision starts a line of its own (`failedcontact replay` names "
        "the torn line)"
    ]
    assert caplog.records == []
    assert log.read_bytes().count(b"\n") == 2  # the fragment ended, then one whole decision
    # outside the command line the module's logger still says it (a library caller's log)
    with caplog.at_level(logging.WARNING, "failedcontact.runs.decision_log"):
        log.write_bytes(b'{"torn')
        DecisionLog(log).close()
    assert [r.getMessage()[:40] for r in caplog.records] == [said[0][9:49]]
