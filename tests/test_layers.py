"""The package's folders are its layers: every import points down, or stays in its layer.

Each folder under src/failedcontact is one layer; `LAYERS` orders them from the bottom. A
module may import from its own layer or any layer below it, never from one above; the
allow-list of exceptions is empty and stays so (docs/decisions.md, "One folder per layer").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "failedcontact"

# bottom first; "" is the package's own top-level modules (errors, codes, limits, versions)
LAYERS = (
    "",
    "model",
    "source",
    "pack",
    "engine",
    "__init__",  # the public API: load_pack, Pack, the contract's models
    "views",
    "runs",
    "interop",
    "testing",
    "service",
    "cli",
    "__main__",
)
ALLOWED_UPWARD: frozenset[tuple[str, str]] = frozenset()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    name = ".".join(parts)
    return name.removesuffix(".__init__")


def _layer(module: str) -> str:
    """The layer of a module of the package, such as `pack` for `failedcontact.pack.tree`."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__"
    if parts[0] in LAYERS and (PACKAGE / parts[0]).is_dir():
        return parts[0]
    if parts[0] == "__main__":
        return "__main__"
    return ""


def _imports(module: str, is_package: bool, text: str) -> list[tuple[int, str]]:
    """Every module of the package that the source imports, anywhere in it, with its line."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # `from . import x` imports the module x; `from .. import load_pack` the package
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.append((node.lineno, submodule if _is_module(submodule) else target))
    return [(line, name) for line, name in found if _is_module(name)]


def _is_module(name: str) -> bool:
    if name != "failedcontact" and not name.startswith("failedcontact."):
        return False
    relative = Path(*name.split(".")[1:]) if "." in name else Path()
    return (PACKAGE / relative).is_dir() or (PACKAGE / relative).with_suffix(".py").is_file()


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_folder_is_a_layer() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= set(LAYERS), f"folders with no place in LAYERS: {folders - set(LAYERS)}"


def _upward(module: str, is_package: bool, text: str) -> list[str]:
    rank = LAYERS.index(_layer(module))
    return [
        f"line {line}: {name} ({_layer(name) or 'top level'})"
        for line, name in _imports(module, is_package, text)
        if LAYERS.index(_layer(name)) > rank and (module, name) not in ALLOWED_UPWARD
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    module = _module_name(path)
    text = path.read_text(encoding="utf-8")
    upward = _upward(module, path.name == "__init__.py", text)
    assert not upward, f"{module} ({_layer(module) or 'top level'}) imports upward: {upward}"


@pytest.mark.parametrize(
    ("module", "text", "upward"),
    [
        ("failedcontact.pack.tree", "from ..engine import evaluate\n", True),
        ("failedcontact.pack.tree", "def f():\n    from failedcontact.cli import app\n", True),
        ("failedcontact.model.case", "from .. import load_pack\n", True),
        ("failedcontact.errors", "from .model import case\n", True),
        ("failedcontact.pack.tree", "from ..source.reader import Located\n", False),
        ("failedcontact.cli.assess", "from ..engine.loader import Pack\n", False),
        ("failedcontact.views.render", "from . import describe\n", False),
    ],
    ids=[
        "relative",
        "lazy-absolute",
        "root-api-from-model",
        "base-to-model",
        "down",
        "cli-down",
        "same-layer",
    ],
)
def test_the_walk_tells_up_from_down(module: str, text: str, upward: bool) -> None:
    assert bool(_upward(module, False, text)) is upward
