"""What is true about generated data: implied item moments and item thresholds.

Used by the tests (and by anyone checking the generator) to compare samples
with their population values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from instrument import Instrument
from synthetic_data.items import thresholds_for
from synthetic_data.population import Population


def item_specs(pop: Population, inst: Instrument) -> pd.DataFrame:
    """Per construct item: construct, standardized loading, sign (-1 reverse-keyed), thresholds."""
    specs = {c: spec for m in pop.modules.values() for c, spec in m.constructs.items()}
    rows = []
    for c in inst.constructs.values():
        spec = specs[c.id]
        shifts = spec.shifts or [0.0] * len(c.items)
        for j, it in enumerate(c.items):
            rows.append({"item": it.id, "construct": c.id, "loading": spec.loadings[j],
                         "sign": -1.0 if it.reverse else 1.0,
                         "thresholds": thresholds_for(pop.common.threshold_profiles[spec.thresholds], shifts[j],
                                                      it.reverse)})
    return pd.DataFrame(rows).set_index("item")


def implied_item_covariance(pop: Population, inst: Instrument, items: Sequence[str]) -> pd.DataFrame:
    """Population covariance of the continuous responses of ``items`` (no acquiescence):
    ``s_i s_j lambda_i lambda_j Cov(eta_i, eta_j)`` off the diagonal, 1 on it."""
    sp = item_specs(pop, inst).loc[list(items)]
    lam = (sp["loading"] * sp["sign"]).to_numpy()
    cov_eta = pop.system.covariance.loc[sp["construct"], sp["construct"]].to_numpy()
    cov = np.outer(lam, lam) * cov_eta
    np.fill_diagonal(cov, 1.0)
    return pd.DataFrame(cov, index=list(items), columns=list(items))
