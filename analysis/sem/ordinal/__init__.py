"""Ordinal (categorical) indicators: thresholds, polychoric correlations and the WLS family of
estimators (DWLS / ULS with robust standard errors and the mean- and mean-and-variance adjusted tests:
lavaan's WLSMV, WLSM, ULSMV, ULS, DWLS), matched to lavaan 0.6.14.

Modules: :mod:`.bivariate` (bivariate normal CDF), :mod:`.samplestats` (thresholds, polychoric /
polyserial / Pearson correlations, ``WLS.obs`` and the factor of ``NACOV``), :mod:`.model` (the
model-implied thresholds and correlations, delta and theta parameterisations, and their Jacobian),
:mod:`.objective` (the DWLS / ULS discrepancy), :mod:`.robust` (sandwich standard errors, scaled and
scaled-shifted tests, the catML-based robust fit indices), :mod:`.fit` (the pipeline behind
``fit(..., ordered=...)``), :mod:`.reliability` (ordinal alpha, categorical omega) and
:mod:`.invariance` (thresholds-first invariance for ordinal items).
"""
