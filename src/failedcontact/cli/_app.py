"""The Typer app, its exit statuses and the pieces every command shares: options, consoles,
errors and writing the output."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from .._version import __version__
from ..engine.build import engine_build
from ..engine.loader import Pack, load_pack
from ..errors import InputError, PackError, literal
from ..model.case_input import parse_as_of_text
from ..model.vocabulary import CONTRACT_VERSION
from ..runs.stopping import EXIT_SIGINT, EXIT_SIGTERM, EXIT_WORKER_DIED, BatchStopped
from ..source.locate import Origin

# Exit statuses (docs/cli.md): distinct, so a script can tell what went wrong.
EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and the answer is "no": a scenario failed, packs differ...
EXIT_CASE = 2  # the case input is invalid
EXIT_PACK = 3  # a pack is invalid or unknown
EXIT_OUTPUT = 4  # the output could not be written: a closed pipe, a full disk
EXIT_INPUT = 5  # an input file is missing or unreadable (case, scenario or YAML file)
EXIT_USAGE = 64  # a bad option value or argument (click itself exits 2 for unknown options)
# A batch that stopped part way (`runs.stopping.BatchStopped`): EXIT_WORKER_DIED (75), a worker
# process died; EXIT_SIGINT (130) and EXIT_SIGTERM (143), stopped by a signal.
STOPPED_STATUSES = (
    f"{EXIT_WORKER_DIED} a batch's worker process died, {EXIT_SIGINT} a batch stopped by "
    f"SIGINT (Ctrl-C), {EXIT_SIGTERM} by SIGTERM (the output so far whole and in order; "
    "carry on with --skip)"
)


class _Commands(TyperGroup):
    """The command group, with usage mistakes on their own exit status (click's is 2, which
    the contract gives to an invalid case)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        tidy_metavars(self)
        standalone = kwargs.pop("standalone_mode", True)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except BatchStopped as stopped:  # its message is on stderr already: only the status
            if not standalone:
                raise
            sys.exit(stopped.code)
        except typer.Abort:
            if not standalone:
                raise
            err.print("Aborted.")
            sys.exit(EXIT_FAILED)
        except InputError as error:  # an input found unreadable part way, wherever it is read
            if not standalone:
                raise
            err.print(literal(f"error: {error}"), markup=False)
            sys.exit(EXIT_INPUT)
        except typer.TyperException as error:  # click's exceptions, as typer vendors them
            if getattr(error, "exit_code", None) == 2:  # a usage error: unknown option, bad value
                error.exit_code = EXIT_USAGE
            if not standalone:
                raise
            error.show()  # type: ignore[attr-defined]
            sys.exit(error.exit_code)
        if standalone:
            sys.exit(result if isinstance(result, int) else EXIT_OK)
        return result


app = typer.Typer(
    cls=_Commands,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Assess a child's failed contacts against a local safeguarding policy pack. "
    "Exit statuses: 0 done, 1 a check said no, 2 invalid case, 3 invalid pack, "
    f"4 output not written, 5 input file unreadable, 64 bad usage, {STOPPED_STATUSES}.",
)


def main() -> None:
    """Entry point of the `failedcontact` console script."""
    app()


def _version(show: bool) -> None:
    if show:
        sys.stdout.write(
            f"failedcontact {__version__} (contract {CONTRACT_VERSION}, engine {engine_build()})\n"
        )
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True,
                     help="Print the versions and the engine's build, then exit."),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print only the output and errors: no notes on "
                     "stderr, such as which pack file was used or which files were written."),
    ] = False,
) -> None:  # fmt: skip
    """Assess a child's failed contacts against a local safeguarding policy pack."""
    _NOTES["quiet"] = quiet


class CheckFormat(StrEnum):
    """How `check`, `test` and `diff` print what they found."""

    TEXT = "text"
    JSON = "json"


_PACK_HELP = (
    "A pack id (`policies/<id>.yaml` in the working tree when there is one, else the bundled "
    "pack) or a pack file's path."
)

# Options several commands share, declared once so their names and help cannot drift apart.
CaseArgument = Annotated[str, typer.Argument(help="Case JSON file, or `-` for standard input.")]
PackOption = Annotated[str, typer.Option("--pack", "-p", help=_PACK_HELP)]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="ISO 8601 instant to assess at (default: now); no offset means UK time."
    ),
]
FormatOption = Annotated[
    CheckFormat, typer.Option("--format", "-f", help="`text` for a person, `json` for a program.")
]


_NOTES = {"quiet": False}
PIPED_WIDTH = 160  # columns when the output is not a terminal and COLUMNS is not set


def console(stderr: bool = False, soft_wrap: bool = False) -> Console:
    """A console that prints user and pack text literally: no markup, no emoji codes.

    Piped into a file or another program, it is `COLUMNS` wide (else `PIPED_WIDTH`), not
    Rich's 80, so tables are not cut and explanations keep their indent."""
    stream = sys.stderr if stderr else sys.stdout
    width = None
    if not (hasattr(stream, "isatty") and stream.isatty()):
        width = int(os.environ.get("COLUMNS", "0") or 0) or PIPED_WIDTH
    return Console(stderr=stderr, soft_wrap=soft_wrap, highlight=False, markup=False,
                   emoji=False, width=width)  # fmt: skip


def note(message: str) -> None:
    """A note on stderr for a person (which file was used, what was written): `--quiet`
    leaves it out. Errors are never notes."""
    if not _NOTES["quiet"]:
        err.print(literal(message), style="dim", markup=False)


err = console(stderr=True, soft_wrap=True)


def fail(code: int, message: str) -> typer.Exit:
    """Print the message on stderr; the exit to raise with the status."""
    err.print(literal(message), markup=False)
    return typer.Exit(code)


def tidy_metavars(group: Any) -> None:
    """Name every value in `--help` as people write it: `--pack PACK`, `CASE`, and nothing
    after a flag (not typer's `<str>`, `{case}` and `<bool>`); a choice keeps its values."""
    for command in [group, *group.commands.values()]:
        if command is not group and hasattr(command, "commands"):
            tidy_metavars(command)
        _quiet_help_flag(command)
        for param in command.params:
            if param.param_type_name == "argument":  # `CASE`, not `{case} <str>`
                name = param.metavar = param.metavar or str(param.name).upper()
                param._usage_display_name = lambda name=name, p=param: (
                    name if p.required else f"[{name}]"
                )
                param.display_type_rich = lambda ctx: None
            elif param.metavar is not None:
                continue
            elif getattr(param, "is_flag", False) or getattr(param, "count", False):
                param.metavar = ""
            elif not getattr(param, "type_descriptor", None) or not param.type_descriptor.is_choice:
                param.metavar = str(param.name).upper()


def _quiet_help_flag(command: Any) -> None:
    """`-h, --help` with nothing after it (the option is made afresh for each context)."""
    if getattr(command, "_tidy_help", False):
        return
    make = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = make(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    command._tidy_help = True


def parse_as_of(text: str | None) -> datetime:
    try:
        return parse_as_of_text(text)
    except ValueError as error:
        if "isoformat" not in str(error):  # a real time the UK clock skips, say
            raise fail(EXIT_USAGE, f"error: --as-of: `{text}`: {error}") from None
        raise fail(EXIT_USAGE, f"error: --as-of: `{text}` is not a date and time\n  help: "
                   "write ISO 8601, such as `2026-11-30T09:00` (UK time) or "
                   "`2026-11-30T09:00:00+00:00`") from None  # fmt: skip


def pack_or_exit(pack: str) -> Pack:
    """Load a pack by path or id; an id means the working tree's `policies/<id>.yaml` first."""
    try:
        loaded = load_pack(pack, near=Path.cwd())
    except PackError as error:
        raise fail(EXIT_PACK, f"error: invalid pack\n{error}") from None
    if loaded.source is not None and loaded.source.origin is not Origin.FILE:
        note(f"pack {loaded.id} {loaded.version}: {loaded.source.describe()}")
    return loaded


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@contextmanager
def writing() -> Iterator[None]:
    """Turn a failed write (a closed pipe, a full disk) into one message and exit status 4."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise output_failed("the reader closed the output pipe") from None
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG):
            raise
        raise output_failed(error.strerror or str(error)) from None


def output_failed(why: str) -> typer.Exit:
    """Every line written before this was written whole; say why the rest was not."""
    # Point stdout at nothing, so the interpreter's last flush cannot fail a second time
    # (in process, as under a test runner, stdout may have no file descriptor to point).
    if has_fd(sys.stdout):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return fail(EXIT_OUTPUT, f"error: cannot write the output: {why}")


def has_fd(stream: IO[Any]) -> bool:
    try:
        stream.fileno()
    except (OSError, ValueError, AttributeError):
        return False  # an in-memory stream (tests)
    return True
