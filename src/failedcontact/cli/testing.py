"""`test` and `verify`: run a pack's scenarios, and search for cases that break it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ..engine.loader import Pack
from ..errors import ScenarioFileError
from ..source.locate import bundled_dir, working_tree
from ..testing.scenarios import Suite, discover, run_suite
from ._app import (
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_USAGE,
    CheckFormat,
    FormatOption,
    app,
    console,
    err,
    fail,
    pack_or_exit,
)

if TYPE_CHECKING:  # imported only where used: the search needs hypothesis
    from ..testing.verify import Violation


@app.command("test")
def test_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Scenario files or folders (default: the bundled scenarios)."),
    ] = None,
    output: FormatOption = CheckFormat.TEXT,
    run_pattern: Annotated[
        str | None, typer.Option("--run", help="Only scenarios whose id matches this regex.")
    ] = None,
    min_coverage: Annotated[
        float | None,
        typer.Option(
            "--min-coverage", min=0, max=100, help="Fail if a pack's rule coverage is below this %."
        ),
    ] = None,
) -> None:
    """Run pack scenarios: a summary, each failure with its file, line and diff, and coverage."""
    tree = working_tree(Path.cwd())
    default = tree / "tests" if tree is not None and (tree / "tests").is_dir() else None
    suite = _run_suite(paths or [default or bundled_dir() / "tests"], run_pattern)
    low = {
        pack: suite.percent(pack)
        for pack in suite.coverage
        if min_coverage is not None and suite.percent(pack) < min_coverage
    }
    if output is CheckFormat.JSON:
        sys.stdout.write(json.dumps(_suite_document(suite), indent=2) + "\n")
    else:
        _print_suite(suite)
    if suite.failed or low:
        for pack, percent in low.items():
            err.print(f"coverage of {pack} is {percent:.0f}%, below {min_coverage:g}%")
        raise typer.Exit(EXIT_FAILED)


def _run_suite(roots: list[Path], run_pattern: str | None) -> Suite:
    """Run the scenarios found at `roots`; exit with the right status if there are none."""
    for root in roots:
        if not any(p.suffix == ".yaml" for p in ([root] if root.is_file() else discover(root))):
            raise fail(EXIT_INPUT, f"error: no scenario files at `{root}`")
    try:
        files = [f for root in roots for f in discover(root)]
        suite = run_suite(files, run_pattern)
    except ScenarioFileError as error:
        raise fail(EXIT_INPUT, f"error: invalid scenario file\n{error}") from None
    except OSError as error:
        raise fail(EXIT_INPUT, f"error: cannot read `{error.filename}`: {error.strerror}") from None
    except re.error as error:
        raise fail(EXIT_USAGE, f"error: --run: {error}") from None
    if not suite.outcomes:
        raise fail(EXIT_FAILED, f"error: no scenario matches `{run_pattern}`")
    return suite


def _suite_document(suite: Suite) -> dict[str, Any]:
    """`test --format json`: every result, and each pack's file and coverage."""
    return {
        "passed": len(suite.outcomes) - len(suite.failed),
        "failed": len(suite.failed),
        "results": [
            {"id": o.scenario.id, "file": str(o.scenario.file), "line": o.scenario.line,
             "section": o.scenario.section, "passed": o.passed, "problems": list(o.problems)}
            for o in suite.outcomes
        ],
        "coverage": {
            pack: {"file": suite.sources[pack], "rules": total, "missed": list(missed),
                   "percent": suite.percent(pack)}
            for pack, (total, missed) in suite.coverage.items()
        },
    }  # fmt: skip


def _print_suite(suite: Suite) -> None:
    """`test` for a person: each failure with its place and diff, then each pack's coverage."""
    out = console(soft_wrap=True)
    for outcome in suite.failed:
        scenario = outcome.scenario
        out.print(f"FAIL {scenario.file}:{scenario.line}: {scenario.name} ({scenario.section})",
                  style="red", markup=False)  # fmt: skip
        for problem in outcome.problems:
            out.print("  " + problem.replace("\n", "\n  "), markup=False)
    for pack, (total, missed) in sorted(suite.coverage.items()):
        out.print(f"pack {pack}: {suite.sources[pack]}", markup=False)
        line = f"coverage {pack}: {total - len(missed)}/{total} rules, duties and patterns"
        line += f" ({suite.percent(pack):.0f}%)"
        if missed:
            line += "; not exercised: " + ", ".join(missed)
        out.print(line, markup=False)
    passed = len(suite.outcomes) - len(suite.failed)
    out.print(f"{passed} passed, {len(suite.failed)} failed", markup=False)


@app.command()
def verify(
    pack_files: Annotated[
        list[str], typer.Argument(help="Pack files, bundled pack ids or mapping files.")
    ],
    examples: Annotated[
        int, typer.Option("--examples", min=1, help="Cases tried per invariant.")
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed, for a repeatable run.")] = 0,
    out: Annotated[
        Path, typer.Option("--out", help="Where counterexample scenarios are written.")
    ] = Path("verify-counterexamples"),
    invariant: Annotated[
        list[str] | None, typer.Option("--invariant", help="Check only these invariants.")
    ] = None,
) -> None:
    """Search for cases that break the consistency invariants; write each as a scenario.

    Each counterexample is written as a scenario that expects the invariant to hold: it fails
    against the pack as it is and passes once the pack is fixed.
    """
    from ..testing.verify import INVARIANTS, write_scenario

    unknown = sorted(set(invariant or ()) - set(INVARIANTS))
    if unknown:
        raise fail(EXIT_USAGE, f"error: unknown invariant(s) {', '.join(unknown)}; expected "
                   f"one of {', '.join(INVARIANTS)}")  # fmt: skip
    printer = console(soft_wrap=True)
    chosen = [name for name in INVARIANTS if not invariant or name in invariant]
    broken = 0
    for item in pack_files:
        pack = pack_or_exit(item)
        found = _search(pack, len(chosen), examples, seed, invariant)
        broken += len(found)
        for violation in found:
            path = write_scenario(pack, violation, out)
            printer.print(f"{item}: {violation.invariant}: {violation.message}", markup=False)
            printer.print(f"  counterexample written to {path}; it fails until the pack is "
                          f"fixed (failedcontact test {path})", markup=False)  # fmt: skip
        if not found:
            printer.print(f"{item}: all {len(chosen)} invariants hold on {examples} "
                          "generated cases each", markup=False)  # fmt: skip
    if broken:
        raise typer.Exit(EXIT_FAILED)


def _search(
    pack: Pack, invariants: int, examples: int, seed: int, only: list[str] | None
) -> list[Violation]:
    """The pack's violations of the chosen invariants, with a progress bar on stderr."""
    from ..testing.verify import find_violations

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"verify {pack.id}", total=invariants)
        done: set[str] = set()

        def step(name: str, tried: int) -> None:
            done.add(name)
            bar.update(task, completed=len(done) - 1,
                       description=f"verify {pack.id}: {name}, case {tried}")  # fmt: skip

        return find_violations(pack, examples=examples, seed=seed, only=only, progress=step)
