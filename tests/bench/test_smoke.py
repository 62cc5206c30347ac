"""The benchmarks keep working: ``python -m bench --smoke`` runs every case at tiny sizes as in production
(gunicorn with gevent workers, PostgreSQL as the app role under row-level security, Redis), on a database of
its own, to its end, and its correctness checks pass. Its figures are not measurements (other tests run beside
it), so none is asserted. The longest test (about two and a half minutes): marked ``long``, so it starts first."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.long
def test_every_benchmark_runs_and_what_it_signed_up_is_stored_once_and_counted(postgres):
    run = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--commitments", "300", "--streams", "20", "--seconds", "1",
                          "--database", POSTGRES_URL], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    signups = json.loads((ROOT / "bench" / "results" / "signups-smoke.json").read_text())
    assert signups["stored_exactly_once"] and signups["counts_equal_recount"]
    assert signups["signups"] and signups["open_loop"] and signups["reads"]["/"]["errors"] == 0
    live_maps = json.loads((ROOT / "bench" / "results" / "live-maps-smoke.json").read_text())
    assert live_maps["streams"] and all(isinstance(step["sign_up_to_all_streams_ms"], float)
                                        for step in live_maps["streams"]), live_maps
