"""Parquet and Arrow in and out give the same rows as the JSON Lines path, in order, with a
row for every case, bad ones included."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import failedcontact as fc

from .conftest import Cli
from .test_batch import BAD, _cases

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

AS_OF = datetime(2026, 11, 25, 9, tzinfo=UTC)


def _jsonl_documents(cli: Cli, stream: Path) -> list[str]:
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), "--jsonl",
                 str(stream), "--workers", "1")  # fmt: skip
    return result.stdout.splitlines()


def _table(cases: list[dict[str, Any]]) -> Any:
    return pa.Table.from_pylist(cases)


@pytest.mark.parametrize("workers", ["1", "3"])
def test_parquet_in_and_out_equals_the_jsonl_path(cli: Cli, tmp_path: Path, workers: str) -> None:
    """Workers turn blocks of 64 rows into lines themselves: rows stay whole and in order."""
    cases = _cases(150)
    cases[17] = {"case_id": "BAD-17", "events": [
        {"at": "2026-11-01T10:00:00", "type": "home_visit", "outcome": "nobody_home"}]}  # fmt: skip
    source, target = tmp_path / "cases.parquet", tmp_path / "assessments.parquet"
    pq.write_table(_table(cases), source)
    stream = tmp_path / "cases.jsonl"
    stream.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), str(source),
                 "-o", str(target), "--workers", workers)  # fmt: skip
    assert result.exit_code == 2, result.stderr  # the bad row is reported...
    table = pq.read_table(target)
    assert table.num_rows == len(cases)  # ...and kept, in its place
    assert table.column("row").to_pylist() == list(range(len(cases)))
    documents = table.column("document").to_pylist()
    expected = _jsonl_documents(cli, stream)
    for index, (got, want) in enumerate(zip(documents, expected, strict=True)):
        if index == 17:
            assert got is None and json.loads(want)["line"] == 18
            [error] = table.column("errors")[17].as_py()
            assert error["path"] == "events[0].outcome"
        else:
            assert got == want  # byte for byte
    first = json.loads(expected[0])
    row = table.slice(0, 1).to_pylist()[0]
    assert (row["case_id"], row["risk_tier"], row["failed_contacts"]) == (
        first["case_id"], first["risk_tier"], first["failed_contacts"])  # fmt: skip
    assert [a["id"] for a in row["actions"]] == [a["id"] for a in first["actions"]]
    assert [a["due"] for a in row["actions"]] == [a["due"] for a in first["actions"]]


def test_jsonl_to_parquet_and_arrow_to_jsonl(cli: Cli, tmp_path: Path) -> None:
    lines = [json.dumps(c).encode() for c in _cases(40)]
    lines.insert(5, BAD[50])  # not JSON
    stream = tmp_path / "cases.jsonl"
    stream.write_bytes(b"\n".join(lines) + b"\n")
    target = tmp_path / "out.parquet"
    cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), "--jsonl",
        str(stream), "-o", str(target))  # fmt: skip
    expected = _jsonl_documents(cli, stream)
    table = pq.read_table(target)
    assert table.num_rows == len(lines) == len(expected)
    assert table.column("errors")[5].as_py()[0]["path"] == ""
    good = [d for d in table.column("document").to_pylist() if d is not None]
    assert good == [e for e in expected if '"contract"' in e]
    # Arrow IPC in, JSON Lines out
    arrow = tmp_path / "cases.arrow"
    with pa.OSFile(str(arrow), "wb") as sink, pa.ipc.new_file(sink, _table(_cases(40)).schema) as w:
        w.write_table(_table(_cases(40)))
    out = tmp_path / "out.jsonl"
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), str(arrow),
                 "-o", str(out), "--workers", "1")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8").splitlines() == [
        e for e in expected if '"contract"' in e
    ]


def test_assess_table_takes_arrow_timestamps_like_iso_text(north_lincs: fc.Pack) -> None:
    from failedcontact.columnar import assess_table

    visit = {"type": "home_visit", "outcome": "no_response"}
    text = {"case_id": "T", "events": [{"at": "2026-11-23T10:00:00+00:00", **visit}]}
    at = datetime(2026, 11, 23, 10, tzinfo=UTC)
    stamped = pa.Table.from_pylist([{"case_id": "T", "events": [{"at": at, **visit}]}])
    result = assess_table(north_lincs, stamped, AS_OF)
    assert result.column("document")[0].as_py() == north_lincs.assess(
        text, AS_OF).model_dump_json()  # fmt: skip


def _row_by_hand(number: int, output: bytes) -> dict[str, Any]:
    """The row layout of docs/columnar.md, built field by field from the JSON document."""
    data = json.loads(output)
    if "contract" not in data:
        return {"row": number, "case_id": data.get("case_id"), "errors": data["errors"]}
    closure = data["closure"]
    actions = [
        {**{k: v for k, v in a.items() if k != "trigger"},
         "trigger_event": a["trigger"]["event"], "trigger_at": a["trigger"]["at"]}
        for a in data["actions"]
    ]  # fmt: skip
    return {
        "row": number, "case_id": data["case_id"], "contract": data["contract"],
        "as_of": data["as_of"], "pack_id": data["pack"]["id"],
        "pack_version": data["pack"]["version"], "pack_digest": data["pack"]["digest"],
        "risk_tier": data["risk_tier"], "risk_reasons": data["risk_reasons"],
        "failed_contacts": data["failed_contacts"], "last_seen": data["last_seen"],
        "actions": actions, "patterns": data["patterns"],
        "closure_allowed": None if closure is None else closure["allowed"],
        "closure_unmet": None if closure is None else [u["id"] for u in closure["unmet"]],
        "document": output.decode("utf-8"),
    }  # fmt: skip


@pytest.mark.parametrize("pack_id", ["north_lincs", "suffolk", "pan_beds"])
def test_arrow_rows_equal_rows_built_by_hand(pack_id: str) -> None:
    """Arrow's JSON reader builds the rows; each must be what the layout says, field by field."""
    from failedcontact.batch import assess_line
    from failedcontact.columnar import ASSESSMENT_SCHEMA, assessment_batch

    pack = fc.load_pack(pack_id)
    lines = [json.dumps(c).encode() for c in _cases(150)]
    lines[3] = BAD[50]
    lines[77] = b'{"case_id": "X", "events": [{"type": "home_visit"}]}'
    outputs = [assess_line(pack, n + 1, line, AS_OF)[0] for n, line in enumerate(lines)]
    batch = assessment_batch(10, outputs)
    expected = pa.RecordBatch.from_pylist(
        [_row_by_hand(10 + n, out) for n, out in enumerate(outputs)], schema=ASSESSMENT_SCHEMA
    )
    assert batch.schema == ASSESSMENT_SCHEMA
    assert batch.to_pylist() == expected.to_pylist()
    assert batch.column("errors")[77].as_py()[0]["path"] == "events[0].at"
