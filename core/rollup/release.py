"""The one release function: a roll-up breakdown as it may be shown, through the privacy rule.

Everything that shows a breakdown (the maps, ``stats.json``, the live pages, the dashboard and its
files, the target tracker) releases it here, with the same tree and the same k, so that no two of
them show different cells for the same counts: comparing two views reveals nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core import privacy
from core.privacy import Count


@dataclass(frozen=True)
class Breakdown:
    """One breakdown as it may be shown: the cells of k people or more (small ones merged into their
    parents), the rest held back as one group, and each key's own count as counted."""

    cells: dict[str, Count]  # shown, after merging, sorted by key
    rest: Count | None  # everything else as one group, None when nothing was held back
    rest_cells: int  # how many counted keys are in the rest
    raw: dict[str, Count]  # each key's own count before merging (keys with nobody left out)
    k: int

    def shown(self, key: str) -> Count | None:
        """What may be shown for a key: its count, zero when it has nobody, None when it is held back."""
        if key in self.cells:
            return self.cells[key]
        return None if key in self.raw else Count(0, 0)

    def own(self, key: str) -> Count | None:
        """A key's own count where it is shown as it is: zero when it has nobody, None when it is held
        back or shown only together with smaller keys merged into it."""
        count = self.raw.get(key, Count(0, 0))
        return count if count.total == 0 or self.cells.get(key) == count else None

    def merged(self, key: str) -> bool:
        """Whether a shown cell holds smaller cells merged into it (its number is more than its own)."""
        return key in self.cells and self.cells[key] != self.raw.get(key)

    def largest_first(self) -> list[tuple[str, Count]]:
        """The shown cells, most people first."""
        return sorted(self.cells.items(), key=lambda item: (-item[1].total, item[0]))

    def cells_json(self) -> dict[str, dict[str, int]]:
        """The shown cells as ``stats.json`` and the maps give them: ``{key: {"total", "men"}}``."""
        return {key: {"total": count.total, "men": count.men} for key, count in self.cells.items()}

    def rest_json(self) -> dict[str, int] | None:
        """The rest as ``stats.json`` and the maps give it (with how many keys it holds), or None."""
        if self.rest is None:
            return None
        return {"total": self.rest.total, "men": self.rest.men, "cells": self.rest_cells}


def unit_parents(units: Iterable) -> dict[str, str | None]:
    """The unit tree as the roll-up keys units (anything with ``id`` and ``parent_id``): each unit's id as
    text -> its parent's, None at the top."""
    return {str(unit.id): str(unit.parent_id) if unit.parent_id else None for unit in units}


def release(dimension: Mapping[str, Mapping[str, int]], k: int,
            parent_of: Mapping[str, str | None] | None = None) -> Breakdown:
    """What may be shown of a breakdown ``{key: {"total", "men"}}`` (a roll-up dimension) under
    threshold ``k``; with ``parent_of`` (the unit tree: key -> parent key, None at the top), a key too
    small to show merges into its parent."""
    raw = {key: Count(value["total"], value["men"]) for key, value in dimension.items() if value["total"]}
    released = privacy.apply_rule(raw, k, parent_of.get if parent_of is not None else None)
    return Breakdown(released.cells, released.rest, released.rest_cells, raw, released.k)
