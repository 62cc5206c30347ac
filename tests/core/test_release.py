"""The one release function: a roll-up breakdown in, what may be shown out, for every page and file."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.privacy import Count
from core.rollup.release import release


def looks_safe(count: Count, k: int) -> bool:
    """The privacy rule's first part, written out independently of the modules."""
    return count.total >= k and not 0 < count.men < k and not 0 < count.total - count.men < k


def test_a_breakdown_is_released_from_a_roll_up_dimension():
    tree = {"law": "campus", "arts": "campus", "campus": None}
    units = release({"law": {"total": 3, "men": 1}, "campus": {"total": 12, "men": 6},
                     "sales": {"total": 20, "men": 10}, "legal": {"total": 2, "men": 1},
                     "ops": {"total": 1, "men": 0}}, 5, tree)
    assert units.cells == {"campus": Count(15, 7), "sales": Count(20, 10)}
    assert (units.rest, units.rest_cells, units.k) == (Count(3, 1), 2, 5)
    assert units.cells_json() == {"campus": {"total": 15, "men": 7}, "sales": {"total": 20, "men": 10}}
    assert units.rest_json() == {"total": 3, "men": 1, "cells": 2}
    assert units.largest_first() == [("sales", Count(20, 10)), ("campus", Count(15, 7))]


def test_what_may_be_shown_of_one_key():
    tree = {"law": "campus", "arts": "campus"}
    units = release({"law": {"total": 3, "men": 1}, "campus": {"total": 12, "men": 6},
                     "sales": {"total": 20, "men": 10}, "legal": {"total": 2, "men": 1},
                     "ops": {"total": 1, "men": 0}}, 5, tree)
    # shown: as the dashboard shows a row (merged cells with what joined them, "fewer than k", or zero)
    assert [units.shown(key) for key in ("campus", "law", "legal", "arts", "sales")] == [
        Count(15, 7), None, None, Count(0, 0), Count(20, 10)]
    assert [units.merged(key) for key in ("campus", "law", "arts", "sales")] == [True, False, False, False]
    # own: a key's own count where it is shown as it is (the target tracker follows one unit)
    assert [units.own(key) for key in ("campus", "law", "legal", "arts", "sales")] == [
        None, None, None, Count(0, 0), Count(20, 10)]


def test_a_parent_with_nobody_of_its_own_shows_only_what_merged_into_it():
    units = release({"law": {"total": 3, "men": 0}, "arts": {"total": 4, "men": 0},
                     "sales": {"total": 20, "men": 10}}, 5, {"law": "campus", "arts": "campus"})
    assert units.cells == {"campus": Count(7, 0), "sales": Count(20, 10)}
    assert units.shown("campus") == Count(7, 0) and units.merged("campus")
    assert units.own("campus") == Count(0, 0), "its own count is zero, and zero reveals nobody"


def test_an_empty_key_is_zero_not_held_back_and_nothing_held_back_means_no_rest():
    days = release({"2030-05-01": {"total": 0, "men": 0}, "2030-05-02": {"total": 10, "men": 5}}, 5)
    assert days.shown("2030-05-01") == Count(0, 0) and days.raw == {"2030-05-02": Count(10, 5)}
    assert days.rest is None and days.rest_json() is None and days.rest_cells == 0


# Properties over random breakdowns, k and unit trees

NAMES = [f"n{i}" for i in range(10)]


@st.composite
def scenarios(draw):
    """Random counts for some names, and a random forest over all names (a parent always comes earlier
    in NAMES, so there are no loops; names without a count act as parents created by merging)."""
    cells = draw(st.dictionaries(st.sampled_from(NAMES), st.integers(0, 40).flatmap(
        lambda total: st.builds(Count, st.just(total), st.integers(0, total))), max_size=len(NAMES)))
    parents = {name: draw(st.none() | st.sampled_from(NAMES[:i])) if i else None for i, name in enumerate(NAMES)}
    use_parents = draw(st.booleans())
    dimension = {key: {"total": count.total, "men": count.men} for key, count in cells.items()}
    return cells, dimension, draw(st.integers(5, 15)), parents if use_parents else None


@settings(deadline=None)  # a property, not a timing: a busy machine must not fail it
@given(scenarios())
def test_every_release_is_safe_consistent_and_resists_subtraction(scenario):
    cells, dimension, k, parent_of = scenario
    result = release(dimension, k, parent_of)
    nonempty = sum(1 for c in cells.values() if c.total)

    assert all(looks_safe(c, k) for c in result.cells.values())  # rule 1
    rest = result.rest or Count(0, 0)
    assert sum(c.total for c in result.cells.values()) + rest.total == sum(c.total for c in cells.values())
    assert sum(c.men for c in result.cells.values()) + rest.men == sum(c.men for c in cells.values())
    # Rule 3: a rest of one cell is allowed only when it is everything, i.e. already the public total.
    assert result.rest is None or result.rest_cells >= 2 or (not result.cells and nonempty == 1)
    assert (result.rest is None) == (result.rest_cells == 0)
    assert result.rest_cells <= nonempty
    assert list(result.cells) == sorted(result.cells)
    assert release(dimension, k, parent_of) == result


@settings(deadline=None)
@given(scenarios())
def test_what_one_key_shows_agrees_with_the_cells(scenario):
    cells, dimension, k, parent_of = scenario
    result = release(dimension, k, parent_of)
    for key in NAMES:
        own = cells.get(key, Count(0, 0))
        shown = result.shown(key)
        assert shown == result.cells.get(key, None if own.total else Count(0, 0))
        assert shown is None or shown.total == 0 or looks_safe(shown, k)
        assert result.merged(key) == (key in result.cells and result.cells[key] != own)
        # A key shown as it is shows its own count; anything else shows nothing of it but zero.
        assert result.own(key) == (own if own.total == 0 or result.cells.get(key) == own else None)
