"""Every benchmark in one command: sign-ups first, then reads and live streams.

    .venv/bin/python -m bench              # full run, about 20 minutes (or: make bench)
    .venv/bin/python -m bench --smoke      # tiny sizes: checks that the benchmarks still work

Both take ``--database`` and ``--redis`` (see bench/common.py) and write their results to bench/results/;
``--loop open`` or ``--loop closed`` runs one kind of sign-up case (see bench/signups.py).
"""

from bench import live_maps, signups

signups.main()
live_maps.main()
