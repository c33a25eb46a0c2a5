"""From replications to power, error rates, recovery and sample-size recommendations.

* :func:`decisions` - each replication's family (the hypotheses that could be decided in it)
  gets ``analyze``'s step 5: Holm (the registry's ``adjust``) across the family, then the verdict
  (:func:`analysis.propositions.pipeline.family_verdicts`). A hypothesis that could not be
  decided (model not estimated, skipped) counts as not supported;
* :func:`power_table` - per world, hypothesis and N: power (share ``supported``) with its Monte
  Carlo SE ``sqrt(p (1 - p) / R)``, the unadjusted rate (no Holm step), ``contrary``, and the
  rates of non-convergence, improper solutions (Heywood) and skipped replications; in the null
  world ``power`` is the false-positive rate; ``FAMILY`` rows give the share of replications in
  which every hypothesis was supported (theory) / any was (null: the family-wise error rate);
* :func:`sample_sizes` - the smallest N with power >= 80% / 90%, interpolated linearly between
  the grid's sizes at the first crossing, with an interval from the crossings of the pointwise
  95% Wilson bounds of the power (lower bound crossing -> upper N and vice versa);
* :func:`recovery_table` - per test quantity and N: bias, relative bias, RMSE, coverage of the
  95% Wald interval and of the simultaneous (Bonferroni over the family's tested quantities)
  interval the recovery test uses, mean SE / SD of the estimates (SE ratio). Estimates are the
  standardized ones (``std.estimate``; the delta-method SE of a standardized indirect effect),
  the truth :func:`analysis.propositions.truth.true_test_values` of the world.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.propositions.hypotheses import Registry
from analysis.propositions.pipeline import family_verdicts

TARGETS = (0.80, 0.90)
FAMILY = "FAMILY"
POWER_COLUMNS = ("world", "hypothesis", "n", "reps", "supported", "power", "mc.se", "power.lower", "power.upper",
                 "power.unadjusted", "contrary", "nonconverged", "improper", "skipped", "n.kept", "n.used")
SIZE_COLUMNS = ("world", "hypothesis", "target", "n.required", "n.lower", "n.upper", "note")
RECOVERY_COLUMNS = ("world", "hypothesis", "test", "n", "true", "reps", "mean.estimate", "bias", "relative.bias",
                    "rmse", "coverage.95", "coverage.simultaneous", "z.simultaneous", "mean.se", "sd.estimate",
                    "se.ratio")


def decisions(replications: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """One row per (world, n, rep, hypothesis): status, the weakest test's p-values, the adjusted
    p-value and the verdict of the family of that replication."""
    first = replications.drop_duplicates(["world", "n", "rep", "hypothesis"])
    cols = ["world", "n", "rep", "hypothesis", "status", "h.pvalue", "h.p.opposite", "h.extra_ok", "n.kept", "n.used"]
    hyp = first[cols].reset_index(drop=True)
    if hyp.empty:
        return hyp.assign(**{"pvalue.adjusted": [], "verdict": [], "verdict.unadjusted": []})
    decided = (hyp["status"].isin(["ok", "improper"]) & hyp["h.pvalue"].notna()).to_numpy()
    extra_ok = hyp["h.extra_ok"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    pvalue = hyp["h.pvalue"].to_numpy(dtype=float)
    p_opp = hyp["h.p.opposite"].to_numpy(dtype=float)
    adjusted = np.full(len(hyp), np.nan)
    verdicts = np.full(len(hyp), "not supported", dtype=object)
    column = {"holm": "pvalue.holm", "bh": "pvalue.bh", "none": None}[registry.adjust]
    keys = hyp[["world", "n", "rep"]].astype(str).agg("|".join, axis=1).to_numpy()
    families: dict[str, list[int]] = {}
    for i in np.flatnonzero(decided):
        families.setdefault(keys[i], []).append(int(i))
    for idx in families.values():  # each replication's family, as analyze's step 5
        v = family_verdicts(pvalue[idx], p_opp[idx], extra_ok[idx], registry)
        adjusted[idx] = v[column].to_numpy() if column else pvalue[idx]
        verdicts[idx] = v["verdict"].to_numpy()
    hyp["pvalue.adjusted"] = adjusted
    hyp["verdict"] = verdicts
    unadjusted = decided & (pvalue < registry.alpha) & extra_ok
    hyp["verdict.unadjusted"] = np.where(unadjusted, "supported", "not supported")
    return hyp


def _wilson(k: np.ndarray, n: np.ndarray, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    p = k / n
    den = 1 + z ** 2 / n
    centre = (p + z ** 2 / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / den
    return centre - half, centre + half


def power_table(dec: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (world, hid, n), g in dec.groupby(["world", "hypothesis", "n"], sort=False):
        reps = len(g)
        k = int((g["verdict"] == "supported").sum())
        rows.append({"world": world, "hypothesis": hid, "n": n, "reps": reps, "supported": k,
                     "power.unadjusted": float((g["verdict.unadjusted"] == "supported").mean()),
                     "contrary": float((g["verdict"] == "contrary").mean()),
                     "nonconverged": float((g["status"] == "nonconverged").mean()),
                     "improper": float((g["status"] == "improper").mean()),
                     "skipped": float((g["status"] == "skipped").mean()),
                     "n.kept": float(g["n.kept"].mean()), "n.used": float(g["n.used"].mean())})
    for (world, n), g in dec.groupby(["world", "n"], sort=False):
        per_rep = g.groupby("rep")["verdict"]
        k = int((per_rep.apply(lambda v: (v == "supported").all()) if world == "theory"
                 else per_rep.apply(lambda v: (v == "supported").any())).sum())
        rows.append({"world": world, "hypothesis": FAMILY, "n": n, "reps": int(g["rep"].nunique()), "supported": k,
                     "n.kept": float(g["n.kept"].mean())})
    out = pd.DataFrame(rows)
    if out.empty:
        return out.reindex(columns=list(POWER_COLUMNS))
    out["power"] = out["supported"] / out["reps"]
    out["mc.se"] = np.sqrt(out["power"] * (1 - out["power"]) / out["reps"])
    lo, hi = _wilson(out["supported"].to_numpy(float), out["reps"].to_numpy(float))
    out["power.lower"], out["power.upper"] = lo, hi
    order = {h: i for i, h in enumerate(dict.fromkeys(dec["hypothesis"]))} | {FAMILY: 10 ** 6}
    out = out.sort_values(["world", "hypothesis", "n"], key=lambda s: s.map(order) if s.name == "hypothesis" else s)
    return out.reindex(columns=list(POWER_COLUMNS)).reset_index(drop=True)


def _crossing(ns: np.ndarray, p: np.ndarray, target: float) -> float:
    """Smallest N at which the piecewise-linear curve through (ns, p) reaches ``target`` (NaN if never)."""
    for k in range(len(ns)):
        if p[k] >= target:
            if k == 0:
                return float(ns[0])
            n0, n1, p0, p1 = ns[k - 1], ns[k], p[k - 1], p[k]
            return float(n0 + (target - p0) * (n1 - n0) / (p1 - p0))
    return float("nan")


def sample_sizes(power: pd.DataFrame, targets=TARGETS) -> pd.DataFrame:
    """Smallest N for each target power, per world and hypothesis (theory world: the planning numbers)."""
    rows = []
    for (world, hid), g in power.groupby(["world", "hypothesis"], sort=False):
        g = g.sort_values("n")
        ns = g["n"].to_numpy(float)
        for target in targets:
            n_req = _crossing(ns, g["power"].to_numpy(), target)
            n_up = _crossing(ns, g["power.lower"].to_numpy(), target)
            n_lo = _crossing(ns, g["power.upper"].to_numpy(), target)
            note = ""
            if not np.isfinite(n_req):
                note = f"power stays below {target:.0%} up to N = {int(ns.max())}: more firms are needed"
            elif n_req == ns[0]:
                note = f"reached at the smallest N of the grid ({int(ns[0])}); smaller N may do"
            elif not np.isfinite(n_up):
                note = "the interval's upper end lies beyond the grid"
            rows.append({"world": world, "hypothesis": hid, "target": target, "n.required": n_req, "n.lower": n_lo,
                         "n.upper": n_up, "note": note})
    return pd.DataFrame(rows).reindex(columns=list(SIZE_COLUMNS))


def recovery_table(replications: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Recovery of every tested quantity with an effect size (Wald and indirect tests)."""
    r = replications[replications["status"].isin(["ok", "improper"]) & replications["rec.se"].notna()
                     & ~replications["kind"].isin(["lr", "htmt"])]
    if r.empty or truth.empty:
        return pd.DataFrame(columns=list(RECOVERY_COLUMNS))
    r = r.merge(truth[["world", "hypothesis", "test", "true"]], on=["world", "hypothesis", "test"], how="inner")
    rows = []
    for (world, n), g in r.groupby(["world", "n"], sort=False):
        k = g[["hypothesis", "test"]].drop_duplicates().shape[0]
        z_sim = float(stats.norm.ppf(1 - 0.025 / max(k, 1)))
        for (hid, test), q in g.groupby(["hypothesis", "test"], sort=False):
            est, se, true = q["rec.estimate"].to_numpy(float), q["rec.se"].to_numpy(float), float(q["true"].iloc[0])
            err = est - true
            sd = float(np.std(est, ddof=1)) if len(est) > 1 else np.nan
            rows.append({"world": world, "hypothesis": hid, "test": test, "n": n, "true": true, "reps": len(est),
                         "mean.estimate": float(est.mean()), "bias": float(err.mean()),
                         "relative.bias": float(err.mean() / true) if abs(true) > 1e-3 else np.nan,
                         "rmse": float(np.sqrt(np.mean(err ** 2))),
                         "coverage.95": float(np.mean(np.abs(err) <= 1.959964 * se)),
                         "coverage.simultaneous": float(np.mean(np.abs(err) <= z_sim * se)), "z.simultaneous": z_sim,
                         "mean.se": float(se.mean()), "sd.estimate": sd,
                         "se.ratio": float(se.mean() / sd) if sd and sd > 0 else np.nan})
    return pd.DataFrame(rows).reindex(columns=list(RECOVERY_COLUMNS))


def study_recommendation(sizes: pd.DataFrame, power: pd.DataFrame, target: float = 0.80) -> dict:
    """The study's N: the largest per-hypothesis N for ``target`` power (every hypothesis reaches it
    on its own), and the N at which all hypotheses are supported together with that probability."""
    s = sizes[(sizes["world"] == "theory") & (sizes["target"] == target) & (sizes["hypothesis"] != FAMILY)]
    fam = sizes[(sizes["world"] == "theory") & (sizes["target"] == target) & (sizes["hypothesis"] == FAMILY)]
    if s.empty:
        return {}
    worst = s.loc[s["n.required"].fillna(np.inf).idxmax()]
    return {"target": target, "n.each": float(worst["n.required"]), "limiting": str(worst["hypothesis"]),
            "n.each.upper": float(worst["n.upper"]),
            "n.all": float(fam["n.required"].iloc[0]) if len(fam) else np.nan,
            "n.all.upper": float(fam["n.upper"].iloc[0]) if len(fam) else np.nan,
            "unreached": [str(h) for h in s.loc[s["n.required"].isna(), "hypothesis"]],
            "max.n": int(power["n"].max())}
