"""The privacy rule: no map, count or export shows a group of fewer than k people.

Counts come as cells (countries, cities, units), each with a total and a number of men. Cells too small
to show merge into their parent (a city into its country, a faculty into its campus); what still cannot
be shown becomes one "fewer than k" rest, built so that subtracting the shown cells from the overall
total reveals no single cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

MIN_K = 5
DEFAULT_K = 10


@dataclass(frozen=True)
class Count:
    """A number of people, and how many of them are men."""

    total: int
    men: int

    def __post_init__(self) -> None:
        # A count that cannot be real would make every check below meaningless: refuse it at the door.
        if self.men < 0 or self.total < self.men:
            raise ValueError(f"a count needs 0 <= men <= total, got total={self.total}, men={self.men}")

    def __add__(self, other: Count) -> Count:
        return Count(self.total + other.total, self.men + other.men)


@dataclass(frozen=True)
class Release:
    """What may be shown."""

    cells: dict[str, Count]  # key -> count, only cells that passed (after merging), sorted by key
    rest: Count | None  # everything else as one group, None when nothing was held back
    rest_cells: int  # how many input cells ended up in the rest (0 when rest is None)
    k: int


def validate_k(k: int) -> int:
    """The threshold k, refused when it is too small to protect anyone."""
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}: smaller groups would let people be singled out, got {k}")
    return k


def _is_safe(count: Count, k: int) -> bool:
    # Both genders must be 0 or >= k, else the few men (or the few others) of the cell are exposed.
    return count.total >= k and all(n == 0 or n >= k for n in (count.men, count.total - count.men))


def _bottom_up(keys: list[str], parent_of: Callable[[str], str | None]) -> list[tuple[str, str | None]]:
    """Every key and every ancestor of one, with its parent, deepest first (ties by key)."""
    parents: dict[str, str | None] = {}
    depths: dict[str, int] = {}
    for key in keys:
        chain: list[str] = []
        node: str | None = key
        while node is not None and node not in depths:
            if node in chain:  # a loop would merge forever
                raise ValueError(f"parent_of loops through {node!r}")
            chain.append(node)
            parents[node] = parent_of(node)
            node = parents[node]
        depth = -1 if node is None else depths[node]
        for member in reversed(chain):
            depth += 1
            depths[member] = depth
    return [(key, parents[key]) for key in sorted(depths, key=lambda key: (-depths[key], key))]


def apply_rule(cells: Mapping[str, Count], k: int = DEFAULT_K,
               parent_of: Callable[[str], str | None] | None = None) -> Release:
    """The cells that may be shown, with everything else gathered into one rest (see the module doc). Pages call
    it through the one release function, ``core.rollup.release.release``."""
    k = validate_k(k)
    # Empty cells reveal nobody and must not count as rest cells: a rest "of two" where one is empty is one.
    counts = {key: count for key, count in cells.items() if count.total > 0}
    members = dict.fromkeys(counts, 1)  # how many input cells each count is made of

    # Merging: an unsafe cell joins its parent; deepest first, so a parent is judged only once all its
    # children have joined it, and then is itself merged further up if the sum is still unsafe.
    if parent_of is not None:
        for key, parent in _bottom_up(sorted(counts), parent_of):
            if key in counts and parent is not None and not _is_safe(counts[key], k):
                counts[parent] = counts.pop(key) + counts.get(parent, Count(0, 0))
                members[parent] = members.pop(key) + members.get(parent, 0)

    # What is safe now is shown; what is not (no parent, or a chain that ended unsafe) is held back.
    shown = {key: count for key, count in counts.items() if _is_safe(count, k)}
    held = [key for key in counts if key not in shown]
    rest_cells = sum(members[key] for key in held)

    # A rest of exactly one input cell equals "overall minus shown", which names that cell: hide the
    # smallest shown cell with it, until the rest holds two or more cells or nothing is shown any more.
    while rest_cells == 1 and shown:
        smallest = min(shown, key=lambda key: (shown[key].total, key))
        del shown[smallest]
        held.append(smallest)
        rest_cells += members[smallest]

    # Consistency: shown and rest partition the input exactly (no rounding, no noise).
    rest = sum((counts[key] for key in held), Count(0, 0)) if held else None
    return Release(cells=dict(sorted(shown.items())), rest=rest, rest_cells=rest_cells, k=k)
