"""Run the service under uvicorn: one process that reloads in place, or several workers."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from ..errors import PackError
from ..runs.releases import Shelf, load_shelf
from .app import Settings, ShelfHolder, create_app, install_sighup
from .guard import ACCEPT_BURST, guarded_protocol, open_file_budget
from .logs import configure_logging

log = logging.getLogger("failedcontact.service")


class _CheckedRestarts(Multiprocess):
    """uvicorn's worker supervisor, except that SIGHUP first checks the packs: a folder that
    fails is refused (the workers keep serving the old packs); one that loads restarts the
    workers one at a time, each replacement ready before the worker it replaces stops, and
    each stopping worker finishing its requests first."""

    folder: Path

    def handle_hup(self) -> None:
        loaded = load_shelf(self.folder)
        if loaded.shelf is None:
            for diagnostic in loaded.diagnostics:
                log.error("reload refused: %s", diagnostic.render())
            return
        log.info("packs check clean: restarting the workers one at a time")
        super().handle_hup()


def run(
    settings: Settings,
    host: str,
    port: int,
    workers: int = 1,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
) -> None:
    """Serve until stopped; raise `PackError` when the packs do not load, and `OSError`
    (before loading anything) when the address cannot be bound, such as a port in use."""
    configure_logging(settings.log_json)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.create_server((host, port), family=family, backlog=2048)  # OSError: taken
    cap = open_file_budget(settings.max_connections)
    common = {
        "host": host,
        "port": port,
        "access_log": False,  # the service logs each request itself, without case content
        "log_config": None,  # configure_logging: one format for every logger
        "ssl_certfile": str(ssl_certfile) if ssl_certfile else None,
        "ssl_keyfile": str(ssl_keyfile) if ssl_keyfile else None,
        "timeout_graceful_shutdown": 30,
        "timeout_keep_alive": 5,
        "backlog": ACCEPT_BURST,
        "http": guarded_protocol(settings.header_timeout, cap),
    }
    if workers == 1:
        holder = ShelfHolder(settings.packs)
        _say_what_is_served(holder.current, host, port, settings, cap)
        app = create_app(settings, holder)
        server = uvicorn.Server(uvicorn.Config(app, **common))  # type: ignore[arg-type]
        install_sighup(holder)
        server.run(sockets=[listening])
        return
    loaded = load_shelf(settings.packs)  # refuse to start rather than start failing workers
    if loaded.shelf is None:
        raise PackError(loaded.diagnostics)
    _say_what_is_served(loaded.shelf, host, port, settings, cap)
    os.environ.update(settings.as_environment())
    config = uvicorn.Config(
        "failedcontact.service.app:app_from_environment",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )
    supervisor = _CheckedRestarts(config, sockets=[listening])
    supervisor.folder = settings.packs
    supervisor.run()


def _say_what_is_served(shelf: Shelf, host: str, port: int, settings: Settings, cap: int) -> None:
    releases = ", ".join(f"{p.id} {p.version}" for p in shelf)
    log.info("serving %d pack release(s) on http://%s:%d: %s", len(shelf), host, port, releases)
    log.info(
        "limits: %d connections, %gs for a request head, %gs between body chunks",
        cap,
        settings.header_timeout,
        settings.body_timeout,
    )
