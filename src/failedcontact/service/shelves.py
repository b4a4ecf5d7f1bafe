"""The shelf of pack releases being served, swapped whole on reload."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..codes import Code
from ..engine.loader import Pack
from ..errors import Diagnostic, PackError
from ..runs.releases import Shelf, load_shelf
from .problems import Problem

log = logging.getLogger("failedcontact.service")


class ShelfHolder:
    """The shelf being served; `reload` builds a new one and swaps it in whole, or keeps the old."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()  # one reload at a time; readers never wait
        loaded = load_shelf(folder)
        if loaded.shelf is None:
            raise PackError(loaded.diagnostics)
        self.current: Shelf = loaded.shelf
        self.loaded_at = datetime.now(UTC)

    def reload(self) -> tuple[Shelf | None, tuple[Diagnostic, ...]]:
        """Load the folder again; on success swap the shelf in, else keep serving the old one."""
        with self._lock:
            loaded = load_shelf(self.folder)
            if loaded.shelf is None:
                log.warning(
                    "reload refused: %d problem(s); still serving the old packs",
                    len(loaded.diagnostics),
                )
                return None, loaded.diagnostics
            self.current = loaded.shelf  # one reference assignment: atomic for readers
            self.loaded_at = datetime.now(UTC)
            log.info("reloaded %d pack release(s) from %s", len(loaded.shelf), self.folder)
            return loaded.shelf, ()


def find_release(shelf: Shelf, pack_id: str, version: str | None) -> Pack:
    """The release on the shelf, or a 404 problem."""
    # a missing or empty `pack` never gets here: the query parameter is validated first
    try:
        return shelf.get(pack_id, version)
    except LookupError as error:
        raise Problem(404, Code.PACK_UNKNOWN, "Unknown pack", str(error)) from None
