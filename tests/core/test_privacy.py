"""The privacy rule: no shown group under k people, and nothing recoverable by subtraction."""

from __future__ import annotations

import pytest

from core.privacy import DEFAULT_K, MIN_K, Count, Release, apply_rule, validate_k


def country_of(key: str) -> str | None:
    """"FR/Lyon" -> "FR"; a country has no parent."""
    return key.split("/")[0] if "/" in key else None


# Rule 1: what a shown cell must be

@pytest.mark.parametrize(("total", "men"), [(10, 0), (10, 10), (20, 10), (12, 0), (25, 15)])
def test_a_cell_that_hides_everyone_is_shown(total, men):
    assert apply_rule({"Oslo": Count(total, men)}).cells == {"Oslo": Count(total, men)}


@pytest.mark.parametrize(("total", "men"), [(9, 0), (9, 9), (12, 11), (12, 1), (19, 9)])
def test_a_cell_that_would_expose_someone_is_held_back(total, men):
    result = apply_rule({"Oslo": Count(total, men)})
    assert result.cells == {}
    assert result.rest == Count(total, men)


def test_twelve_people_with_eleven_men_is_not_shown_because_it_reveals_the_one_other():
    result = apply_rule({"Oslo": Count(12, 11), "Bergen": Count(3, 1), "Tromsø": Count(40, 20)})
    assert result.cells == {"Tromsø": Count(40, 20)}
    assert result.rest == Count(15, 12)
    assert result.rest_cells == 2


def test_a_tenant_may_raise_k():
    cells = {"a": Count(15, 0), "b": Count(15, 0), "c": Count(40, 20)}
    assert set(apply_rule(cells, k=10).cells) == {"a", "b", "c"}
    raised = apply_rule(cells, k=20)
    assert raised.cells == {"c": Count(40, 20)}
    assert (raised.rest, raised.rest_cells, raised.k) == (Count(30, 0), 2, 20)


def test_k_defaults_to_ten():
    assert apply_rule({"a": Count(10, 0)}).k == DEFAULT_K == 10


# Rule 2: merging into parents

def test_a_small_city_merges_into_its_country():
    cells = {"FR/Paris": Count(30, 15), "FR/Lyon": Count(6, 3), "FR/Nice": Count(14, 7)}
    result = apply_rule(cells, parent_of=country_of)
    # Lyon is too small and Nice would expose its 7 men; together, as "FR", they hide everyone.
    assert result.cells == {"FR": Count(20, 10), "FR/Paris": Count(30, 15)}
    assert result.rest is None and result.rest_cells == 0


def test_a_merged_cell_adds_to_the_parents_own_count():
    cells = {"FR": Count(14, 7), "FR/Lyon": Count(6, 3)}
    assert apply_rule(cells, parent_of=country_of).cells == {"FR": Count(20, 10)}


def test_a_faculty_merges_through_its_campus_into_the_university():
    parents = {"law": "city campus", "city campus": "university"}
    cells = {"law": Count(4, 2), "city campus": Count(6, 3), "university": Count(10, 5)}
    result = apply_rule(cells, parent_of=parents.get)
    assert result.cells == {"university": Count(20, 10)}
    assert result.rest is None


def test_a_parent_made_unsafe_by_a_merge_is_held_back_itself():
    # France alone would show (10 non-men), but the one man merged in from Lyon would be exposed in it.
    cells = {"FR": Count(10, 0), "FR/Lyon": Count(1, 1), "DE": Count(20, 10)}
    result = apply_rule(cells, parent_of=country_of)
    assert result.cells == {"DE": Count(20, 10)}
    assert (result.rest, result.rest_cells) == (Count(11, 1), 2)


def test_a_safe_city_stays_apart_from_its_country():
    cells = {"FR/Paris": Count(30, 15), "FR/Lyon": Count(20, 10)}
    assert apply_rule(cells, parent_of=country_of).cells == cells


def test_a_loop_in_the_parents_is_refused():
    parents = {"a": "b", "b": "a"}
    with pytest.raises(ValueError, match="loops"):
        apply_rule({"a": Count(3, 1)}, parent_of=parents.get)


# Rule 3: the rest, and the subtraction attack

def test_the_subtraction_attack_finds_nobody():
    units = {"sales": Count(40, 20), "engineering": Count(30, 15), "legal": Count(3, 1)}
    overall = Count(73, 36)  # the page shows these totals anyway

    # Just dropping small units would give legal away: overall minus shown is exactly its 3 people.
    naive_shown = {key: c for key, c in units.items() if c.total >= DEFAULT_K}
    naive_gap = Count(overall.total - sum(c.total for c in naive_shown.values()),
                      overall.men - sum(c.men for c in naive_shown.values()))
    assert naive_gap == units["legal"]

    result = apply_rule(units)
    gap = Count(overall.total - sum(c.total for c in result.cells.values()),
                overall.men - sum(c.men for c in result.cells.values()))
    assert result.cells == {"sales": Count(40, 20)}
    assert gap == result.rest == Count(33, 16)  # engineering and legal together, never legal alone
    assert result.rest_cells == 2
    assert all(gap != units[key] for key in units if key not in result.cells)


def test_the_smallest_shown_cell_joins_a_rest_of_one_with_ties_broken_by_key():
    cells = {"a": Count(3, 0), "c": Count(20, 10), "b": Count(20, 10), "d": Count(50, 25)}
    result = apply_rule(cells)
    assert result.cells == {"c": Count(20, 10), "d": Count(50, 25)}
    assert (result.rest, result.rest_cells) == (Count(23, 10), 2)


def test_everything_goes_to_the_rest_when_only_one_cell_could_be_shown():
    result = apply_rule({"a": Count(3, 1), "b": Count(20, 10)})
    assert result.cells == {}
    assert (result.rest, result.rest_cells) == (Count(23, 11), 2)


def test_a_single_small_cell_is_all_of_the_rest():
    # Its count equals the overall total, which is public anyway: there is nothing left to hide it among.
    result = apply_rule({"a": Count(3, 1)})
    assert (result.cells, result.rest, result.rest_cells) == ({}, Count(3, 1), 1)


def test_a_held_back_parent_counts_the_cells_merged_into_it():
    parents = {"law": "campus", "arts": "campus"}
    one = apply_rule({"law": Count(3, 1), "x": Count(20, 10), "y": Count(30, 15)}, parent_of=parents.get)
    assert one.cells == {"y": Count(30, 15)}  # "campus" holds law alone: x had to join it
    assert (one.rest, one.rest_cells) == (Count(23, 11), 2)

    two = apply_rule({"law": Count(3, 1), "arts": Count(2, 1), "x": Count(20, 10)}, parent_of=parents.get)
    assert two.cells == {"x": Count(20, 10)}  # "campus" holds law and arts: nobody else needs to join
    assert (two.rest, two.rest_cells) == (Count(5, 2), 2)


def test_a_merged_cell_moved_into_the_rest_brings_all_its_cells():
    cells = {"FR/Lyon": Count(6, 6), "FR/Nice": Count(4, 4), "DE": Count(3, 1), "US": Count(40, 20)}
    result = apply_rule(cells, parent_of=country_of)
    # "FR" (Lyon and Nice, 10 men) could show, but it is the smallest cell and DE alone would be exposed.
    assert result.cells == {"US": Count(40, 20)}
    assert (result.rest, result.rest_cells) == (Count(13, 11), 3)


def test_nothing_held_back_means_no_rest():
    assert apply_rule({"a": Count(10, 0), "b": Count(20, 10)}) == Release(
        cells={"a": Count(10, 0), "b": Count(20, 10)}, rest=None, rest_cells=0, k=DEFAULT_K)


# Rule 5: empty and impossible counts

def test_empty_cells_are_dropped_and_do_not_count_as_rest_cells():
    result = apply_rule({"empty": Count(0, 0), "small": Count(3, 1), "b": Count(20, 10), "c": Count(30, 15)})
    assert "empty" not in result.cells
    assert result.cells == {"c": Count(30, 15)}  # "small" alone in the rest would be exposed
    assert (result.rest, result.rest_cells) == (Count(23, 11), 2)


def test_an_empty_city_does_not_create_its_country():
    result = apply_rule({"FR/Lyon": Count(0, 0), "DE": Count(20, 10)}, parent_of=country_of)
    assert result == Release(cells={"DE": Count(20, 10)}, rest=None, rest_cells=0, k=DEFAULT_K)


@pytest.mark.parametrize(("total", "men"), [(-1, 0), (5, -1), (3, 4)])
def test_impossible_counts_are_refused(total, men):
    with pytest.raises(ValueError, match="men <= total"):
        apply_rule({"a": Count(total, men)})


# Rule 6: determinism

def test_the_output_is_sorted_and_does_not_depend_on_input_order():
    cells = {"c": Count(20, 10), "a": Count(10, 0), "b": Count(3, 1), "d": Count(2, 2)}
    result = apply_rule(cells)
    assert list(result.cells) == sorted(result.cells)
    assert apply_rule(dict(reversed(cells.items()))) == result


# k

def test_validate_k_refuses_4_and_accepts_5():
    with pytest.raises(ValueError, match=f"at least {MIN_K}"):
        validate_k(4)
    assert validate_k(5) == 5


def test_release_refuses_a_k_below_the_minimum():
    with pytest.raises(ValueError, match="at least 5"):
        apply_rule({"a": Count(10, 0)}, k=4)
