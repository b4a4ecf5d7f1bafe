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
def test_parquet_in_and_out_equals_the_jsonl_path(
    cli: Cli, tmp_path: Path, workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers turn blocks of rows into lines and back into rows themselves (blocks of 16
    here, so 10 of them): rows stay whole and in order, and so do decision-log lines."""
    from failedcontact.interop import columnar

    monkeypatch.setattr(columnar, "_BLOCK", 16)
    cases = _cases(150)
    cases[17] = {"case_id": "BAD-17", "events": [
        {"at": "2026-11-01T10:00:00", "type": "home_visit", "outcome": "nobody_home"}]}  # fmt: skip
    source, target = tmp_path / "cases.parquet", tmp_path / "assessments.parquet"
    pq.write_table(_table(cases), source)
    stream = tmp_path / "cases.jsonl"
    stream.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    log = tmp_path / "decisions.jsonl"
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), str(source),
                 "-o", str(target), "--workers", workers, "--decision-log", str(log))  # fmt: skip
    assert result.exit_code == 2, result.stderr  # the bad row is reported...
    assert "line 18:" in result.stderr
    logged = [json.loads(line)["request_id"] for line in log.read_text().splitlines()]
    run = logged[0].split("#")[0]
    assert logged == [f"{run}#{n}" for n in range(1, 151) if n != 18]
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


def _corrupt_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(range(256)) * 7 + bytes(208)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "output", "damage"),
    [
        ("cases.parquet", "out.parquet", "not a table"),
        ("cases.arrow", "out.arrow", "not a table"),
        ("cases.parquet", "out.jsonl", "not a table"),
        ("cases.parquet", "out.parquet", "corrupt page"),
        ("cases.parquet", "out.jsonl", "corrupt page"),
    ],
)
def test_an_unreadable_case_table_exits_5_naming_it(
    cli: Cli, tmp_path: Path, name: str, output: str, damage: str
) -> None:
    """Not a table at all: nothing is written. A page found corrupt part way: the run stops
    there with the file named, not a traceback."""
    source, target = tmp_path / name, tmp_path / output
    if damage == "not a table":
        source.write_bytes(b'{"case_id": "C"}\n' * 50)
    else:
        pq.write_table(_table(_cases(3000)), source, row_group_size=500, compression="snappy")
        _corrupt_middle(source)
    result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), str(source),
                 "-o", str(target), "--workers", "1")  # fmt: skip
    assert result.exit_code == 5, result.stderr
    assert f"error: cannot read case table `{source}`" in result.stderr
    if damage == "not a table":
        assert not target.exists()


def test_from_parquet_an_export_that_is_not_parquet_exits_5(cli: Cli, tmp_path: Path) -> None:
    export = tmp_path / "contacts.parquet"
    export.write_text("PersonID,ContactDateTime\n")
    result = cli("assess", "--pack", "north_lincs", "--from", "parquet", "--mapping",
                 "case_system_csv", str(export))  # fmt: skip
    assert result.exit_code == 5, result.stderr
    assert f"error: cannot read export `{export}`" in result.stderr


def test_assess_table_takes_arrow_timestamps_like_iso_text(north_lincs: fc.Pack) -> None:
    from failedcontact.interop.columnar import assess_table

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
    from failedcontact.interop.columnar import ASSESSMENT_SCHEMA, assessment_batch
    from failedcontact.runs.batch import assess_line

    pack = fc.load_pack(pack_id)
    cases = _cases(150)
    cases[5]["case_id"] = 'C5,"trace":[]}'  # the reader cuts documents at their trace field
    lines = [json.dumps(c).encode() for c in cases]
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


def _lines_by_to_pylist(batch: Any) -> list[bytes]:
    """The case lines as Arrow's own `to_pylist` gives the rows (nulls then left out)."""
    import orjson

    from failedcontact.interop.columnar import _plain

    return [orjson.dumps(_plain(row)) for row in batch.to_pylist()]


def _awkward_table() -> Any:
    """Columns of every shape a case table may have, with nulls at every level."""
    at = [datetime(2026, 3, 29, 0, 30), None, datetime(1969, 12, 31, 23, 59, 59, 1000),
          datetime(2026, 7, 1, 12, 15, 2)]  # fmt: skip
    event = pa.struct([("at", pa.timestamp("ms")), ("type", pa.string()),
                       ("outcome", pa.string()), ("out_of_hours", pa.bool_())])  # fmt: skip
    rows = [
        [{"at": at[0], "type": "home_visit", "outcome": "no_response", "out_of_hours": None}],
        None, [],
        [None, {"at": at[2], "type": "call", "outcome": None, "out_of_hours": True},
         {"at": at[3], "type": "appointment", "outcome": "not_brought", "out_of_hours": False}],
    ]  # fmt: skip
    events = pa.array(rows, pa.list_(event))
    child = pa.array(
        [{"date_of_birth": datetime(2015, 3, 1).date(), "unborn": None}, None,
         {"date_of_birth": None, "unborn": True}, {"date_of_birth": None, "unborn": None}],
        pa.struct([("date_of_birth", pa.date32()), ("unborn", pa.bool_())]),
    )  # fmt: skip
    pairs = pa.map_(pa.string(), pa.string())
    columns = {
        "case_id": pa.array(["A", None, "C", "D"]),
        "child": child,
        "events": events,
        "flags": pa.array([["x", None], None, [], ["y"]], pa.large_list(pa.string())),
        "codes": pa.array(["p", "q", None, "p"]).dictionary_encode(),
        "pairs": pa.array([[1, 2], None, [3, 4], [5, 6]], pa.list_(pa.int8(), 2)),
        "tags": pa.array([[("k", "v")], None, [], [("a", None)]], pairs),
        "empty": pa.array([{}, None, {}, {}], pa.struct([])),
        "score": pa.array([1.5, None, -0.0, 2e300]),
    }
    for unit in ("s", "ms", "us"):
        for zone in (None, "UTC", "+00:00", "+01:00", "Europe/London"):
            stamp = pa.array(at, pa.timestamp("us")).cast(pa.timestamp(unit), safe=False)
            columns[f"at_{unit}_{zone}"] = stamp.cast(pa.timestamp(unit, tz=zone))
    return pa.table(columns)


@pytest.mark.parametrize(
    ("start", "length"), [(0, 4), (1, 3), (2, 1), (3, 1), (1, 0)], ids=lambda n: str(n)
)
def test_case_rows_read_a_column_at_a_time_equal_arrow_to_pylist(start: int, length: int) -> None:
    """Every type, null and slice gives the same line as Arrow's row-by-row `to_pylist`."""
    from failedcontact.interop.columnar import case_lines

    batch = _awkward_table().combine_chunks().to_batches()[0].slice(start, length)
    got = list(case_lines([batch]))
    assert len(got) == length
    assert got == _lines_by_to_pylist(batch)


def test_case_rows_of_bundled_shapes_equal_arrow_to_pylist() -> None:
    """The rows of real case tables (the tests' cases, read back from Parquet) match too."""
    from failedcontact.interop.columnar import case_lines

    table = pa.Table.from_pylist([
        {**case, "events": [{**e, "at": datetime.fromisoformat(e["at"])} for e in case["events"]]}
        for case in _cases(300)
    ])  # fmt: skip
    batches = table.to_batches(max_chunksize=70)
    assert [line for b in batches for line in case_lines([b])] == [
        line for b in batches for line in _lines_by_to_pylist(b)
    ]


def test_dates_held_as_midnight_timestamps_read_as_dates() -> None:
    """pandas keeps dates as datetime64: a date of birth or an absence's end at midnight is
    that date; any other time of day is not a date, and the row's check says so."""
    from failedcontact.interop.columnar import case_lines

    child = pa.struct([("date_of_birth", pa.timestamp("ns"))])
    event = pa.struct([("at", pa.string()), ("type", pa.string()),
                       ("until", pa.timestamp("ms", tz="UTC"))])  # fmt: skip
    table = pa.table({
        "case_id": ["MIDNIGHT", "NOON"],
        "child": pa.array([{"date_of_birth": datetime(2020, 1, 1)},
                           {"date_of_birth": datetime(2020, 1, 1, 12)}], type=child),
        "events": pa.array([[{"at": "2026-11-01T10:00:00", "type": "worker_absence",
                              "until": datetime(2026, 12, 1, tzinfo=UTC)}], []],
                           type=pa.list_(event)),
    })  # fmt: skip
    midnight, noon = (json.loads(line) for line in case_lines(table.to_batches()))
    assert midnight["child"] == {"date_of_birth": "2020-01-01"}
    assert midnight["events"][0]["until"] == "2026-12-01"
    fc.parse_case(json.dumps(midnight))
    with pytest.raises(fc.CaseError, match=r"child\.date_of_birth: input should be a valid date"):
        fc.parse_case(json.dumps(noon))


def test_nanosecond_and_far_future_times_read_as_their_text_would() -> None:
    """`to_pylist` cannot give these as Python times (a pandas Timestamp, or a failure).
    Nanoseconds are cut to the microsecond below, as the case check reads
    `...59.999999999`; a time past year 9999 stays text, so its row gets an error record."""
    from failedcontact.interop.columnar import assess_table, case_lines

    nanos = pa.array([-1, 1_500, None], pa.timestamp("ns"))
    line = list(case_lines([pa.record_batch({"at": nanos.cast(pa.timestamp("ns", tz="UTC"))})]))
    assert [json.loads(x) for x in line] == [
        {"at": "1969-12-31T23:59:59.999999+00:00"}, {"at": "1970-01-01T00:00:00.000001+00:00"}, {},
    ]  # fmt: skip
    visit = {"type": "home_visit", "outcome": "no_response"}
    far = pa.array([datetime(2026, 11, 1, 10), None], pa.timestamp("ms"))
    far = pa.concat_arrays([far, pa.array([300_000_000_000_000], pa.timestamp("ms"))])
    events = pa.ListArray.from_arrays([0, 1, 2, 3], pa.StructArray.from_arrays(
        [far, pa.array([visit["type"]] * 3), pa.array([visit["outcome"]] * 3)],
        names=["at", "type", "outcome"]))  # fmt: skip
    table = pa.table({"case_id": ["A", "B", "C"], "events": events})
    result = assess_table(fc.load_pack("north_lincs"), table, AS_OF).to_pylist()
    assert result[0]["errors"] is None and result[0]["failed_contacts"] == 1
    assert [e["path"] for e in result[1]["errors"]] == ["events[0].at"]
    assert [e["path"] for e in result[2]["errors"]] == ["events[0].at"]
    assert result[2]["case_id"] == "C"


def test_table_to_table_with_spawned_workers(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where processes cannot fork (macOS, Windows), workers are spawned: they compile the
    pack from its text and get the block format by pickling. Same rows as one process."""
    import multiprocessing

    from failedcontact.interop import columnar

    monkeypatch.setattr(columnar, "_BLOCK", 8)
    cases = _cases(30)
    source = tmp_path / "cases.parquet"
    pq.write_table(_table(cases), source)
    outputs = {}
    for workers in ("1", "2"):
        if workers == "2":
            monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
        target = tmp_path / f"out{workers}.parquet"
        result = cli("assess", "--pack", "north_lincs", "--as-of", AS_OF.isoformat(), str(source),
                     "-o", str(target), "--workers", workers)  # fmt: skip
        assert result.exit_code == 0, result.stderr
        outputs[workers] = pq.read_table(target)
    assert outputs["2"].num_rows == 30
    assert outputs["2"].equals(outputs["1"])
