"""What a pack reads that changes with time alone, for `next_change` (contract 1.2).

Worked out once, when the pack is compiled: the engine's `next_change` looks here for the
instants at which a fact read at `as_of` may change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..source.reader import Path
from .conditions import Compiled
from .tree import AllOf, AnyOf, Count, Node, Not, Operator, Test

_AT_AS_OF = ("risk", "closure", "duties")  # where a condition is read at `as_of`

# windows of counts read at `as_of` (days, months); ages at which a test may flip; whether
# an absence's length is read
Clocks = tuple[tuple[tuple[int | None, int | None], ...], tuple[int, ...], bool]


# The ages at which a test on `age_years` can change its answer, by operator.
_FLIPS: dict[Operator, Callable[[int], tuple[int, ...]]] = {
    Operator.LESS_THAN: lambda v: (v,),
    Operator.AT_LEAST: lambda v: (v,),
    Operator.MORE_THAN: lambda v: (v + 1,),
    Operator.AT_MOST: lambda v: (v + 1,),
    Operator.EQUALS: lambda v: (v, v + 1),
    Operator.IN: lambda v: (v, v + 1),
    Operator.NOT_IN: lambda v: (v, v + 1),
}


def clocks(conditions: Iterable[tuple[Path, Compiled]], as_of_rules: set[Path]) -> Clocks:
    """What a pack reads that changes with time alone: the windows of counts read at
    `as_of`, the ages at which a test read at `as_of` may flip, whether an absence's
    length is read."""
    windows: list[tuple[int | None, int | None]] = []
    ages: set[int] = set()
    absence = False
    for path, condition in conditions:
        at_as_of = path[0] in _AT_AS_OF or path[:3] in as_of_rules
        for node in _nodes(condition.tree):
            if isinstance(node, Count) and at_as_of and (node.days or node.months):
                windows.append((node.days, node.months))
            elif isinstance(node, Test):
                if at_as_of and node.fact.name == "age_years" and node.op in _FLIPS:
                    flips = _FLIPS[node.op]
                    ages.update(a for value in node.values for a in flips(int(value)))
                absence = absence or node.fact.name == "absence_days"
    return tuple(dict.fromkeys(windows)), tuple(sorted(ages)), absence


def _nodes(node: Node | None) -> Iterable[Node]:
    if node is None:
        return
    yield node
    if isinstance(node, AllOf | AnyOf):
        for part in node.parts:
            yield from _nodes(part)
    elif isinstance(node, Not):
        yield from _nodes(node.part)
    elif isinstance(node, Count):
        yield from _nodes(node.of)
        yield from _nodes(node.since)
