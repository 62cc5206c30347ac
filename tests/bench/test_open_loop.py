"""The open-loop benchmark's arithmetic (``bench/open_loop.py``): the arrival schedule, latencies counted
from the schedule, each step's verdict and the search over rates. No server: fast and deterministic."""

import random
import statistics

import pytest

from bench.open_loop import (LAG_P99_BOUND_MS, P99_BOUND_MS, arrival_times, max_rate, next_rate,
                             percentile_from_schedule, verdict)


def test_arrivals_are_a_poisson_process_at_the_rate_asked():
    times = arrival_times(1000, 10, random.Random(7))
    assert times == sorted(times) and 0 < times[0] and times[-1] < 10
    assert 9_700 <= len(times) <= 10_300  # 10,000 expected, standard deviation 100
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    # Exponential gaps: mean 1 ms and a standard deviation as large as the mean (a fixed beat would have none).
    assert statistics.mean(gaps) == pytest.approx(0.001, rel=0.03)
    assert statistics.stdev(gaps) == pytest.approx(0.001, rel=0.05)


def test_the_same_seed_gives_the_same_schedule():
    assert arrival_times(50, 5, random.Random(1)) == arrival_times(50, 5, random.Random(1))
    assert arrival_times(50, 5, random.Random(1)) != arrival_times(50, 5, random.Random(2))


def test_latency_runs_from_the_scheduled_time_not_from_when_the_request_went_out():
    # Ten visits scheduled 10 ms apart; the server answers them all at once at 200 ms, as after a stall:
    # the first waited 200 ms, the last 110 ms, whatever time each was sent.
    scheduled = [n / 100 for n in range(10)]
    answered = [0.2] * 10
    assert percentile_from_schedule(scheduled, answered, 1.0) == 200.0
    assert percentile_from_schedule(scheduled, answered, 0.5) == 150.0  # nearest rank: the 5th of 10
    assert percentile_from_schedule(scheduled, answered, 0.01) == 110.0


def test_a_visit_never_answered_counts_as_later_than_any_answered():
    scheduled = [0.0] * 100
    answered = [0.05] * 98 + [None, None]
    assert percentile_from_schedule(scheduled, answered, 0.98) == 50.0
    assert percentile_from_schedule(scheduled, answered, 0.99) is None
    assert percentile_from_schedule([], [], 0.99) is None


def step(p99=50.0, lag=1.0, errors=0, shed=0, unanswered=0):
    return {"p99_ms": p99, "lag_p99_ms": lag, "errors": errors, "shed": shed, "unanswered": unanswered}


def test_a_step_passes_only_if_every_visit_was_served_in_time_by_a_punctual_client():
    assert verdict(step()) == "pass"
    assert verdict(step(p99=P99_BOUND_MS)) == "pass"
    assert verdict(step(p99=P99_BOUND_MS + 0.01)) == "fail"
    assert verdict(step(p99=None, unanswered=2)) == "fail"
    assert verdict(step(errors=1)) == "fail"
    assert verdict(step(shed=1)) == "fail"
    assert verdict(step(lag=LAG_P99_BOUND_MS + 0.01)) == "invalid"
    assert verdict(step(p99=500.0, lag=LAG_P99_BOUND_MS + 1)) == "invalid"  # a lagging client proves nothing
    assert verdict(step(lag=None)) == "invalid"


def search_against(capacity: float, start: float = 10, **settings) -> list[tuple[float, str]]:
    """The rates the search tries against a server whose p99 stays within the bound up to ``capacity``."""
    steps = []
    while (rate := next_rate(steps, start, **settings)) is not None:
        steps.append((rate, "pass" if rate <= capacity else "fail"))
    return steps


def test_rates_go_up_until_p99_passes_the_bound_then_narrow_it_down():
    steps = search_against(60)
    assert steps == [(10, "pass"), (15, "pass"), (22, "pass"), (33, "pass"), (50, "pass"),
                     (75, "fail"), (61, "fail"), (55, "pass")]
    assert max_rate(steps) == 55
    assert max_rate(search_against(1000, start=100)) == 931  # 760 passed, 1140 failed, then 931 and 1030


def test_when_the_first_rate_fails_the_search_goes_down_then_narrows_it_down():
    assert search_against(5) == [(10, "fail"), (7, "fail"), (5, "pass"), (6, "fail")]
    assert max_rate(search_against(5)) == 5
    assert search_against(0.5) == [(10, "fail"), (7, "fail"), (5, "fail"), (3, "fail"), (2, "fail"), (1, "fail")]
    assert max_rate(search_against(0.5)) == 0


def test_the_search_stops_when_the_client_lags():
    steps = [(10, "pass"), (15.0, "invalid")]
    assert next_rate(steps, 10) is None
    assert max_rate(steps) == 10


def test_the_search_ends_after_its_last_step_whatever_the_rates():
    assert len(search_against(10**9, max_steps=5)) == 5
    assert search_against(60, refinements=0)[-1] == (75, "fail")
    assert [rate for rate, _ in search_against(10**9, start=1, max_steps=4)] == [1, 2, 3, 4]  # always up
    assert search_against(2, start=1)[-1] == (3, "fail")  # no whole rate between 2 and 3 to try


def test_a_pass_above_a_failure_does_not_count():
    # Noise: 80/s failed, 90/s passed by luck. The highest rate known good is the one below the failure.
    assert max_rate([(40, "pass"), (60, "pass"), (80, "fail"), (90, "pass")]) == 60

