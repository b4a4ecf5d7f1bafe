"""A shelf of pack releases: every version of every pack in a folder, loaded and checked at once.

The service serves a shelf and swaps it whole on reload; replay looks decisions' packs up on
one. A shelf is immutable: a reload builds a new one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from ..codes import Code
from ..engine.loader import Pack
from ..errors import Diagnostic, Severity, did_you_mean
from ..pack.pipeline import run_file
from ..source.locate import Origin, PackSource

_SKIPPED_FOLDERS = frozenset({"tests"})  # scenario files live there, next to their packs


def version_key(version: str) -> tuple[int, ...]:
    """Order semantic versions numerically (`1.10.0` after `1.9.0`)."""
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True, slots=True)
class Shelf:
    """Pack releases by id and version; the highest version of an id is its default."""

    folder: Path
    packs: Mapping[str, Mapping[str, Pack]]

    def ids(self) -> list[str]:
        """The pack ids, sorted."""
        return sorted(self.packs)

    def versions(self, pack_id: str) -> list[str]:
        """The versions of one pack, oldest first."""
        return sorted(self.packs.get(pack_id, {}), key=version_key)

    def get(self, pack_id: str, version: str | None = None) -> Pack:
        """The release asked for (the highest version when `version` is None).

        Raises `LookupError` with a message that names what is on the shelf.
        """
        releases = self.packs.get(pack_id)
        if releases is None:
            hint = did_you_mean(pack_id, self.packs) or f"packs served: {', '.join(self.ids())}"
            raise LookupError(f"unknown pack `{pack_id}`; {hint}")
        if version is None:
            return releases[self.versions(pack_id)[-1]]
        if version not in releases:
            known = ", ".join(f"`{v}`" for v in self.versions(pack_id))
            raise LookupError(f"pack `{pack_id}` has no version `{version}`; it has {known}")
        return releases[version]

    def __iter__(self) -> Iterator[Pack]:
        for pack_id in self.ids():
            for version in self.versions(pack_id):
                yield self.packs[pack_id][version]

    def __len__(self) -> int:
        return sum(len(releases) for releases in self.packs.values())


@dataclass(frozen=True, slots=True)
class ShelfResult:
    """A loaded shelf, or the diagnostics that stopped it (every problem, not the first)."""

    shelf: Shelf | None
    diagnostics: tuple[Diagnostic, ...]


def pack_files(folder: Path) -> list[Path]:
    """The pack files of a folder: its `*.yaml` and `*.yml`, and those one folder down
    (`releases/<id>-<version>.yaml`), except in a `tests` folder."""
    found = [p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
    for sub in folder.iterdir():
        if sub.is_dir() and sub.name not in _SKIPPED_FOLDERS and not sub.name.startswith("."):
            found += [p for p in sub.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()]
    return sorted(found)


def load_shelf(folder: Path) -> ShelfResult:
    """Load every pack file of `folder`; any error refuses the whole shelf."""
    if not folder.is_dir():
        problem = Diagnostic(Code.PACK_NOT_FOUND, f"no folder `{folder}`", str(folder), 0, 0)
        return ShelfResult(None, (problem,))
    problems: list[Diagnostic] = []
    packs: dict[str, dict[str, Pack]] = {}
    for path in pack_files(folder):
        result = run_file(path, str(path))
        problems += [d for d in result.diagnostics if d.severity is Severity.ERROR]
        if result.compiled is None:
            continue
        pack = Pack(result.compiled, PackSource(path, Origin.FILE))
        same = packs.setdefault(pack.id, {}).get(pack.version)
        if same is not None and same.digest != pack.digest:
            problems.append(_duplicate(pack, same, path))
            continue
        packs[pack.id].setdefault(pack.version, pack)
    if not packs and not problems:
        problems.append(
            Diagnostic(Code.PACK_NOT_FOUND, f"no pack files in `{folder}`", str(folder), 0, 0)
        )
    if problems:
        return ShelfResult(None, tuple(problems))
    frozen = {k: MappingProxyType(v) for k, v in packs.items()}
    return ShelfResult(Shelf(folder, MappingProxyType(frozen)), ())


def _duplicate(pack: Pack, first: Pack, path: Path) -> Diagnostic:
    assert first.source is not None
    return Diagnostic(
        Code.PACK_DUPLICATE_RELEASE,
        f"`{pack.id}` version `{pack.version}` is in two files that differ: "
        f"`{first.source.path.name}` and `{path.name}`",
        str(path),
        1,
        1,
        "give the changed file a new `version`",
    )
