"""`serve`: assessments over HTTP, with the `service` extra."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ..errors import PackError, literal
from ..source.locate import bundled_dir
from ._app import EXIT_INPUT, EXIT_PACK, EXIT_USAGE, app, err, fail
from ._decision_log import LogCaseOption, LogMaskOption, log_options

_HostOption = Annotated[str, typer.Option("--host", help="Address to listen on.")]
_PortOption = Annotated[
    int, typer.Option("--port", min=0, max=65535, help="The TCP port to listen on (0: any free).")
]
_PacksOption = Annotated[
    Path | None,
    typer.Option("--packs", help="Folder of pack releases: its `*.yaml` and those one "
                 "folder down, several versions of a pack side by side (default: the "
                 "bundled packs)."),
]  # fmt: skip
_TokensOption = Annotated[
    Path | None,
    typer.Option("--tokens-file", help="Bearer tokens, one a line (also "
                 "FAILEDCONTACT_TOKENS, comma-separated)."),
]  # fmt: skip
_AdminTokensOption = Annotated[
    Path | None,
    typer.Option("--admin-tokens-file", help="Tokens that may also reload the packs "
                 "(also FAILEDCONTACT_ADMIN_TOKENS)."),
]  # fmt: skip
_UnauthenticatedOption = Annotated[
    bool,
    typer.Option("--allow-unauthenticated", help="Serve without tokens (a loud warning; "
                 "for a laptop, never for case data)."),
]  # fmt: skip
_MaxBodyOption = Annotated[
    int, typer.Option("--max-body-bytes", min=1, help="Largest request body (413 above).")
]
_DecisionLogOption = Annotated[
    Path | None,
    typer.Option("--decision-log", help="Append a line per assessment to this JSONL "
                 "file, written before the answer is sent."),
]  # fmt: skip
_LogSyncOption = Annotated[
    bool, typer.Option("--log-sync", help="fsync each decision line (power-cut safe; slower).")
]
_WorkersOption = Annotated[int, typer.Option("--workers", min=1, help="uvicorn worker processes.")]
_CertOption = Annotated[
    Path | None,
    typer.Option("--ssl-certfile", help="TLS certificate (PEM); or terminate TLS at a proxy."),
]
_KeyOption = Annotated[
    Path | None, typer.Option("--ssl-keyfile", help="The TLS certificate's private key (PEM).")
]


@app.command()
def serve(
    host: _HostOption = "127.0.0.1",
    port: _PortOption = 8080,
    packs_folder: _PacksOption = None,
    tokens_file: _TokensOption = None,
    admin_tokens_file: _AdminTokensOption = None,
    allow_unauthenticated: _UnauthenticatedOption = False,
    max_body_bytes: _MaxBodyOption = 4 * 1024 * 1024,
    decision_log: _DecisionLogOption = None,
    log_case: LogCaseOption = False,
    log_mask: LogMaskOption = None,
    log_sync: _LogSyncOption = False,
    workers: _WorkersOption = 1,
    ssl_certfile: _CertOption = None,
    ssl_keyfile: _KeyOption = None,
) -> None:
    """Serve assessments over HTTP (needs the `service` extra); docs/service.md."""
    try:
        from ..service.app import Settings
    except ImportError:
        raise fail(EXIT_USAGE, "error: the service needs the `service` extra: "
                   "pip install 'failedcontact[service]'") from None  # fmt: skip
    tokens = _tokens(tokens_file, "FAILEDCONTACT_TOKENS")
    admin = _tokens(admin_tokens_file, "FAILEDCONTACT_ADMIN_TOKENS")
    if not tokens and not admin and not allow_unauthenticated:
        raise fail(EXIT_USAGE, "error: no bearer tokens: give --tokens-file or "
                   "FAILEDCONTACT_TOKENS (and an admin token to reload), or "
                   "--allow-unauthenticated")  # fmt: skip
    options = log_options(decision_log, log_case, log_mask)
    settings = Settings(
        packs=(packs_folder or bundled_dir()).resolve(), tokens=tokens, admin_tokens=admin,
        allow_unauthenticated=allow_unauthenticated, max_body_bytes=max_body_bytes,
        decision_log=decision_log.resolve() if decision_log else None, log_options=options,
        log_sync=log_sync,
    )  # fmt: skip
    if allow_unauthenticated and not tokens:
        err.print("WARNING: serving WITHOUT authentication (--allow-unauthenticated): anyone "
                  "who can reach this port can send cases and read assessments",
                  style="bold red", markup=False)  # fmt: skip
    from ..service.serving import run

    try:
        run(settings, host, port, workers, ssl_certfile, ssl_keyfile)
    except PackError as error:
        for diagnostic in error.diagnostics:
            err.print(literal(diagnostic.render()), markup=False)
        raise fail(EXIT_PACK, f"error: the packs in `{settings.packs}` cannot be "
                   "served") from None  # fmt: skip


def _tokens(path: Path | None, variable: str) -> tuple[str, ...]:
    found = [t.strip() for t in os.environ.get(variable, "").split(",") if t.strip()]
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise fail(EXIT_INPUT, f"error: cannot read `{path}`: {error}") from None
        found += [line.strip() for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]  # fmt: skip
    return tuple(found)
