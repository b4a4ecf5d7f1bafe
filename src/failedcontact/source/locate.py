"""Find the pack file a pack id means: the working tree's copy first, then the bundled one.

A policy lead edits `policies/<id>.yaml` in a clone; every tool run inside that clone must
use the file being edited, not the copy installed with the library.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

from ..codes import Code
from ..errors import Diagnostic, UnknownPackError, did_you_mean
from .reader import FileKind, missing_file

POLICIES = "policies"


class Origin(StrEnum):
    """Where a pack file was found."""

    FILE = "file"  # named by its path
    WORKING_TREE = "working tree"  # `policies/<id>.yaml` in the folder or one above it
    BUNDLED = "bundled"  # installed with the library


@dataclass(frozen=True, slots=True)
class PackSource:
    """A pack file and how it was found."""

    path: Path
    origin: Origin

    def describe(self) -> str:
        """Which file, in words: `policies/<id>.yaml (the working tree's copy)`."""
        shown = _relative(self.path)
        if self.origin is Origin.WORKING_TREE:
            return f"{shown} (the working tree's copy)"
        if self.origin is Origin.BUNDLED:
            return f"{shown} (the bundled copy)"
        return shown


def bundled_folder(name: str) -> Path:
    """A folder installed with the library (`policies`, `mappings`), or the source tree's."""
    installed = Path(str(resources.files("failedcontact"))) / "_bundled" / name
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[3] / name


def bundled_dir() -> Path:
    """The folder of bundled packs."""
    return bundled_folder(POLICIES)


def bundled_ids() -> list[str]:
    """The ids of the bundled packs, sorted."""
    return sorted(p.stem for p in bundled_dir().glob("*.yaml"))


def working_tree(near: Path) -> Path | None:
    """The nearest `policies` folder at or above `near` (a folder named so, or holding one)."""
    start = near.resolve()
    for folder in (start, *start.parents):
        if folder.name == POLICIES and folder.is_dir():
            return folder
        if (folder / POLICIES).is_dir():
            return folder / POLICIES
    return None


def is_pack_path(name: str) -> bool:
    """True when `name` is written as a file path rather than a pack id."""
    return name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name


def resolve_pack(name: str | Path, near: Path | None = None) -> PackSource:
    """The file a pack name means: a path as given, else `<id>.yaml` in the working tree
    nearest `near` (when `near` is given), else the bundled copy."""
    text = str(name)
    if isinstance(name, Path) or is_pack_path(text):
        path = Path(text)
        if not path.exists():  # anything else (a folder, a FIFO) is refused when it is read
            raise UnknownPackError([missing_file(FileKind.PACK, text)])
        return PackSource(path, Origin.FILE)
    tree = working_tree(near) if near is not None else None
    if tree is not None and (tree / f"{text}.yaml").is_file():
        return PackSource(tree / f"{text}.yaml", Origin.WORKING_TREE)
    path = bundled_dir() / f"{text}.yaml"
    if path.is_file():
        return PackSource(path, Origin.BUNDLED)
    known = sorted(set(bundled_ids()) | set(_ids_in(tree)))
    where = f" in `{_relative(tree)}` or" if tree is not None else ""
    raise UnknownPackError(
        [
            Diagnostic(
                Code.PACK_UNKNOWN,
                f"unknown pack `{text}`: no `{text}.yaml`{where} among the bundled packs",
                "",
                0,
                0,
                did_you_mean(text, known) or f"known packs: {', '.join(known)}",
            )
        ]
    )


def _ids_in(folder: Path | None) -> list[str]:
    return [p.stem for p in folder.glob("*.yaml")] if folder is not None else []


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
