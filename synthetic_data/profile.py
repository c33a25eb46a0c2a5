"""The firm profile (M0): observed variables drawn from latent firm characteristics.

Rules and their parameters live in ``models/firm_profile.yaml`` under
``observed``; codes of categorical answers come from the instrument's
response scales, so the generated data use exactly the codes the
questionnaire would record.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from instrument.model import Instrument
from smecore.errors import DefinitionError
from synthetic_data.population import Coefficient


def _codes(instrument: Instrument, scale: str) -> dict[str, int]:
    return {p.label["en"]: p.value for p in instrument.scales[scale].points}


def _pick(rng: np.random.Generator, shares: Mapping[str, float], n: int) -> np.ndarray:
    names = list(shares)
    p = np.array([shares[k] for k in names], dtype=float)
    return np.array(names, dtype=object)[rng.choice(len(names), size=n, p=p / p.sum())]


def draw_profile(latent: pd.DataFrame, firms: pd.DataFrame, observed: Mapping[str, dict], world: str,
                 instrument: Instrument, survey_year: int, rng: np.random.Generator) -> pd.DataFrame:
    """Profile answers for every firm.

    ``latent`` holds the standardized latent scores (SIZE, AGE, EXPER, TECH, DOI,
    GROW, IK, G7, VG, ...); ``firms`` the country and cluster organisation of
    each firm. Returns the M0 profile variables, coded as in the instrument.
    """
    n = len(latent)
    o = observed
    out: dict[str, np.ndarray] = {}
    try:
        e = o["firm_employees"]
        out["firm_employees"] = np.clip(np.round(np.exp(e["log_median"] + e["log_sd"] * latent[e["from"]])),
                                        e["min"], e["max"]).astype(int)
        a = o["firm_age"]
        age = np.clip(np.round(np.exp(a["log_median"] + a["log_sd"] * latent[a["from"]])), a["min"], a["max"])
        out["firm_founded"] = (survey_year - age).astype(int)
        t = o["firm_tech"]
        tech_level = np.searchsorted(np.array(t["cuts"]), latent[t["from"]].to_numpy())
        tech_codes = _codes(instrument, "tech3")
        out["firm_tech"] = np.array([tech_codes[f"{t['levels'][k].capitalize()} technology"] for k in tech_level])
        sector_codes = _codes(instrument, "sector11")
        sector = np.empty(n, dtype=object)
        for k, level in enumerate(t["levels"]):
            idx = np.flatnonzero(tech_level == k)
            sector[idx] = _pick(rng, o["firm_sector"][level], len(idx))
        out["firm_sector"] = np.array([sector_codes[s] for s in sector])
        country_codes = _codes(instrument, "country6")
        out["firm_country"] = np.array([country_codes[c] for c in firms["country"]])
        x = o["firm_export_ratio"]
        ratio = 100 * stats.norm.cdf(x["intercept"] + x["slope"] * latent[x["from"]]
                                     + x["noise"] * rng.standard_normal(n))
        out["firm_export_ratio"] = np.clip(np.round(ratio), x["min"], x["max"]).astype(int)
        m = o["firm_markets"]
        out["firm_markets"] = 1 + rng.poisson(np.exp(m["log_intercept"] + m["slope"] * latent[m["from"]]))
        nm = o["firm_new_markets_3y"]
        eta = np.full(n, float(nm["log_intercept"]))
        for raw in nm["coefficients"]:
            c = Coefficient.model_validate(raw)
            eta = eta + c.in_world(world) * latent[c.predictor].to_numpy()
        mu = np.exp(eta)
        alpha = float(nm["alpha"])
        # negative binomial (NB2): Poisson with a gamma-distributed rate, Var = mu + alpha mu^2
        rate = rng.gamma(shape=1 / alpha, scale=alpha * mu)
        out["firm_new_markets_3y"] = np.minimum(rng.poisson(rate), out["firm_markets"])
        y = o["years_international"]
        share = stats.norm.cdf(y["share_intercept"] + y["share_slope"] * latent[y["from"]])
        years = np.clip(np.round(age * share), 1, age)
        out["firm_first_foreign_sale"] = (survey_year - years).astype(int)
        g = o["firm_intl_growth"]
        out["firm_intl_growth"] = np.searchsorted(np.array(g["cuts"]), latent[g["from"]].to_numpy()) + 1
        out["firm_cluster_member"] = np.ones(n, dtype=int)
        out["firm_cluster_org"] = firms["cluster"].to_numpy(dtype=object)
        gp = o["firm_gov_programme"]
        out["firm_gov_programme"] = (rng.random(n) < stats.norm.cdf(gp["intercept"] + gp["slope"]
                                                                    * latent[gp["from"]])).astype(int)
        role_codes = _codes(instrument, "role5")
        out["resp_role"] = np.array([role_codes[r] for r in _pick(rng, o["resp_role"], n)])
    except KeyError as exc:
        raise DefinitionError(f"firm_profile.yaml: observed: missing setting or unknown code {exc}") from None
    return pd.DataFrame(out, index=latent.index)
