"""Speed benchmarks. Run all with ``make bench`` (``python -m benchmarks``) or one with
``python -m benchmarks.fit_speed``. Each prints its timings and the ratio against a
baseline run in the same process."""
