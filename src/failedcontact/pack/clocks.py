"""What a pack reads that changes with time alone, for `next_change` (contract 1.2).

Worked out once, when the pack is compiled: the engine's `next_change` looks here for the
instants at which a fact read at `as_of` may change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..source.reader import Path
from .conditions import Compiled
from .tree import Count, Operator, Test, walk

_AT_AS_OF = ("risk", "closure", "duties")  # where a condition is read at `as_of`

# windows of counts read at `as_of` (days, months); ages at which a test may flip; the
# lengths of an absence, in days, at which a test may flip
Clocks = tuple[tuple[tuple[int | None, int | None], ...], tuple[int, ...], tuple[int, ...]]


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
    `as_of`, the ages at which a test read at `as_of` may flip, the lengths at which a test
    of an open-ended absence (its length so far) may flip."""
    windows: list[tuple[int | None, int | None]] = []
    ages: set[int] = set()
    absences: set[int] = set()
    for path, condition in conditions:
        at_as_of = path[0] in _AT_AS_OF or path[:3] in as_of_rules
        for node in walk(condition.tree):
            if isinstance(node, Count) and at_as_of and (node.days or node.months):
                windows.append((node.days, node.months))
            elif isinstance(node, Test):
                flips = _FLIPS.get(node.op)
                if flips is None:
                    continue
                if at_as_of and node.fact.name == "age_years":
                    ages.update(a for value in node.values for a in flips(int(value)))
                elif node.fact.name == "absence_days":
                    absences.update(d for value in node.values for d in flips(int(value)))
    return tuple(dict.fromkeys(windows)), tuple(sorted(ages)), tuple(sorted(absences))
