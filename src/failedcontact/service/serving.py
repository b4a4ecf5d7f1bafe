"""Run the service under uvicorn: one process that reloads in place, or several workers."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from ..errors import PackError
from ..runs.releases import load_shelf
from .app import Settings, ShelfHolder, create_app, install_sighup

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
    """Serve until stopped; raise `PackError` when the packs do not load."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    common = {
        "host": host,
        "port": port,
        "access_log": False,  # the service logs each request itself, without case content
        "ssl_certfile": str(ssl_certfile) if ssl_certfile else None,
        "ssl_keyfile": str(ssl_keyfile) if ssl_keyfile else None,
        "timeout_graceful_shutdown": 30,
    }
    if workers == 1:
        holder = ShelfHolder(settings.packs)
        app = create_app(settings, holder)
        server = uvicorn.Server(uvicorn.Config(app, **common))  # type: ignore[arg-type]
        install_sighup(holder)
        server.run()
        return
    loaded = load_shelf(settings.packs)  # refuse to start rather than start failing workers
    if loaded.shelf is None:
        raise PackError(loaded.diagnostics)
    os.environ.update(settings.as_environment())
    config = uvicorn.Config(
        "failedcontact.service.app:app_from_environment",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )
    supervisor = _CheckedRestarts(config, sockets=[config.bind_socket()])
    supervisor.folder = settings.packs
    supervisor.run()
