"""Monte Carlo power, error rates and recovery per hypothesis: plan a study before fielding it.

``power(out=..., hypotheses="H1,H6", ns="100:1500:100", reps=500, world="theory")`` simulates
studies of N firms from the population models (:mod:`synthetic_data`), analyses each one with
``analyze``'s decision code (same registry, tests and Holm step) and writes power per
hypothesis and N, the N needed for 80% / 90% power, null-world false-positive rates, recovery
of the tested quantities and a ``power.html`` report. Steps: :mod:`analysis.power.settings`
(options), :mod:`analysis.power.replicate` (one replication), :mod:`analysis.power.run`
(scheduling on local processes or a Dask cluster, streaming, resume),
:mod:`analysis.power.summary` (tables), :mod:`analysis.power.report` (files),
:mod:`analysis.power.plan` (preregistration).
"""

from analysis.power.run import PowerResult, power

__all__ = ["PowerResult", "power"]
