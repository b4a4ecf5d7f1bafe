"""`assess --from`: a FHIR bundle or a case system's export, mapped to cases and assessed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.loader import Pack
from ..errors import CaseError, MappingError, literal
from ..interop.mapping import AnyMapping, FhirMapping, TableMapping, load_mapping
from ._app import EXIT_CASE, EXIT_INPUT, EXIT_OUTPUT, EXIT_PACK, EXIT_USAGE, err, fail, writing
from ._cases import OutputFormat, emit, read_case_input
from ._files import not_a_file

if TYPE_CHECKING:  # imported only where used: `fhir` may need an extra
    from ..interop.fhir import MappedCase


class Source(StrEnum):
    """What `assess` reads."""

    JSON = "json"
    FHIR = "fhir"
    CSV = "csv"
    PARQUET = "parquet"


def assess_mapped(
    case: str,
    pack: Pack,
    when: datetime,
    source: Source,
    mapping_name: str | None,
    patient: str | None,
    output: OutputFormat,
    destination: Path | None = None,
    dialect: tuple[str | None, str | None] = (None, None),
) -> None:
    """`--from fhir|csv|parquet`: map the source to cases, then assess each as it comes,
    writing to standard output or to `destination` (`-o`, JSON Lines or JSON). `dialect`
    is a CSV export's (encoding, delimiter) when not the mapping's `csv`."""
    _check_destination(destination, output)
    loaded = _load_mapping_or_exit(mapping_name, source)
    mapped = _mapped_cases(case, source, loaded, patient, dialect)
    one = source is Source.FHIR
    with writing(), _output(destination):
        failed = [step for item in mapped if (step := _write_mapped(item, pack, when, output, one))]
    if failed:
        what = (
            f"the bundle could not be {failed[0]}"
            if one
            else (
                f"{len(failed)} case(s) could not be mapped or assessed; each has an error record "
                "in its place"
            )
        )
        raise fail(EXIT_CASE, f"error: {what}")


def _check_destination(destination: Path | None, output: OutputFormat) -> None:
    if destination is None:
        return
    if destination.suffix.lower() in (".parquet", ".arrow", ".feather"):
        raise fail(EXIT_USAGE, f"error: --from writes JSON Lines (or one JSON document for "
                   f"--from fhir); `{destination}` names a table: use a `.jsonl` name")  # fmt: skip
    if output is OutputFormat.TABLE:
        raise fail(EXIT_USAGE, "error: --format table is for the terminal; drop -o or use "
                   "--format json")  # fmt: skip


@contextmanager
def _output(destination: Path | None) -> Iterator[None]:
    """Standard output, or `destination` in its place: each answer is written as it comes."""
    if destination is None:
        yield
        return
    try:
        stream = destination.open("w", encoding="utf-8")
    except OSError as error:
        raise fail(EXIT_OUTPUT, f"error: cannot write `{destination}`: {error.strerror}") from None
    with stream, redirect_stdout(stream):
        yield


def _load_mapping_or_exit(name: str | None, source: Source) -> AnyMapping:
    if name is None:
        if source is not Source.FHIR:
            raise fail(
                EXIT_USAGE,
                f"error: --from {source} needs --mapping: a table mapping "
                "file such as the bundled `case_system_csv` (docs/interop.md)",
            )
        name = "fhir_uk_core"
    try:
        loaded = load_mapping(name)
    except MappingError as error:
        raise fail(EXIT_PACK, f"error: invalid mapping\n{error}") from None
    wanted = FhirMapping if source is Source.FHIR else TableMapping
    if not isinstance(loaded, wanted):
        kind = "fhir" if isinstance(loaded, FhirMapping) else "table"
        raise fail(
            EXIT_USAGE,
            f"error: mapping `{name}` is a `{kind}` mapping; --from "
            f"{source} needs a `{'fhir' if source is Source.FHIR else 'table'}` one",
        )
    return loaded


def _mapped_cases(
    case: str,
    source: Source,
    loaded: AnyMapping,
    patient: str | None,
    dialect: tuple[str | None, str | None],
) -> Iterator[MappedCase]:
    """Read the bundle or export and map it to cases; exit with the right status if unreadable."""
    try:
        if source is Source.FHIR:
            from ..interop.fhir import map_bundle

            assert isinstance(loaded, FhirMapping)
            return iter([map_bundle(read_case_input(case), loaded, patient=patient)])
        from ..interop.tables import read_csv, read_parquet

        assert isinstance(loaded, TableMapping)
        if not Path(case).is_file():
            raise fail(EXIT_INPUT, not_a_file("export file", case))
        if source is Source.CSV:
            return read_csv(case, loaded, encoding=dialect[0], delimiter=dialect[1])
        return read_parquet(case, loaded)
    except ModuleNotFoundError as error:
        extra = "fhir" if source is Source.FHIR else "columnar"
        raise fail(
            EXIT_USAGE,
            f"error: --from {source} needs `{error.name}`: install failedcontact[{extra}]",
        ) from None
    except CaseError as error:
        raise fail(EXIT_CASE, "error: " + "; ".join(i.render() for i in error.issues)) from None
    except (OSError, UnicodeDecodeError) as error:
        hint = ""
        if isinstance(error, UnicodeDecodeError):
            hint = "; give the export's encoding (the mapping's `csv: {encoding: cp1252}`)"
        raise fail(EXIT_INPUT, f"error: cannot read `{case}`: {error}{hint}") from None
    except LookupError as error:  # an unknown codec name
        raise fail(EXIT_USAGE, f"error: {error}") from None


def _write_mapped(
    item: MappedCase, pack: Pack, when: datetime, output: OutputFormat, one: bool
) -> str | None:
    """Write one mapped case's assessment, or its errors and the step that failed
    (`mapped`, or `assessed` when the pack rejects the case: a flag it does not declare).

    A batch (`one` false) writes an error record in a bad case's place, so output lines
    stay in step with the cases.
    """
    for note in item.notes:
        err.print(literal(note.render()), markup=False, style="dim")
    errors: list[dict[str, str]]
    if item.errors or item.case is None:
        for finding in item.errors:
            err.print(literal(finding.render()), markup=False)
        step = "mapped"
        errors = [
            {"path": f.location, "message": f"{f.resource}: {f.message}"} for f in item.errors
        ]
    else:
        try:
            assessment = pack.assess(item.case, when)
        except CaseError as error:
            err.print(literal(f"error: {error}"), markup=False)
            step = "assessed"
            errors = [{"path": i.path, "message": i.message} for i in error.issues]
        else:
            if output is OutputFormat.FHIR:
                from ..interop.fhir import task_bundle

                tasks = task_bundle(assessment, item.patient)
                sys.stdout.write(json.dumps(tasks, indent=2 if one else None) + "\n")
            else:
                emit(assessment, output, indent=2 if one else None, case=item.case, pack=pack)
            return None
    if not one:
        sys.stdout.write(json.dumps({"case_id": item.case_id, "errors": errors}) + "\n")
    return step
