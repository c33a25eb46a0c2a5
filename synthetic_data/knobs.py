"""Realism knobs: the ways real survey data fall short of a clean population model.

Defaults live in ``models/common.yaml``; every knob can be set or switched off
(``Knobs.clean()`` switches all off). Applied after the clean answers are
drawn, in this order, each with its own random stream so that changing one
knob does not change what the others do:

* careless responders answer every Likert item uniformly at random;
* straight-liners give one answer to every Likert item;
* attention-check failures: careless responders fail at chance, a small
  share of attentive ones fail anyway;
* partial completes stop at a random point; everything after it is missing;
* MCAR missingness on single answers, and MAR missingness that is more
  frequent in small firms (missing at random given the observed size, see
  below);
* response durations: log-normal seconds per answered question, much faster
  for careless responders and straight-liners.

(Acquiescence acts on the continuous responses, so the generator applies it
before categorising; its SD is a knob here too.)

The MAR mechanism: each Likert answer is blanked with probability
``2 * mar * Phi(-size)``, ``size`` the firm's standardized latent size (mean
about ``mar``; twice that in the smallest firms, near 0 in the largest). The
questionnaire records size as ``firm_employees`` = ``exp(3 + 0.9 size)``
rounded to whole employees and kept within 1..249 (``firm_profile.yaml``),
the analysis variable ``SIZE`` = log employees, a monotone function of
``size`` (the rounding moves the probability by less than 0.002). So the data
are missing at random given ``SIZE`` - but not given the variables of a model
that leaves ``SIZE`` out while some of its variables correlate with size
(DOI, EXPER, ...): there FIML's assumption would fail. The analysis pipeline
therefore adds ``SIZE`` as an auxiliary variable of FIML (saturated correlates,
``analysis.propositions.pipeline.MISSINGNESS_PREDICTORS``, :mod:`analysis.sem.auxiliary`) to
every SEM that does not contain it. The mechanism is left on the latent size
(not on the recorded count) so that the committed reference data stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd
from scipy import stats

from smecore.errors import OptionError

RESPONDENT_TYPES = ("attentive", "careless", "straightliner")


@dataclass(frozen=True)
class Knobs:
    """Knob settings (shares are of respondents, except the two missingness rates: of answers)."""

    mcar: float = 0.02
    mar: float = 0.03
    careless: float = 0.03
    straightliners: float = 0.02
    acquiescence_sd: float = 0.15
    attention_fail: float = 0.03
    partial: float = 0.04
    durations: bool = True

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Knobs:
        """Knobs from a mapping (e.g. ``common.yaml``); unknown names are an error listing the valid ones."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise OptionError(f"unknown knob(s) {unknown}; the knobs are {sorted(names)}")
        knobs = cls(**{k: v for k, v in values.items()})
        knobs.check()
        return knobs

    @classmethod
    def clean(cls) -> Knobs:
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False)

    def with_changes(self, **changes) -> Knobs:
        knobs = replace(self, **changes)
        knobs.check()
        return knobs

    def check(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "durations":
                continue
            if not 0 <= float(v) <= (1 if f.name != "acquiescence_sd" else 2):
                raise OptionError(f"knob '{f.name}' = {v}: must be between 0 and "
                                  f"{1 if f.name != 'acquiescence_sd' else 2}")
        if self.careless + self.straightliners > 1:
            raise OptionError("knobs 'careless' + 'straightliners' exceed 1")

    def as_dict(self) -> dict:
        return asdict(self)


def apply_knobs(data: pd.DataFrame, *, likert: Sequence[str], attention: Mapping[str, int],
                questions: Sequence[str], size: np.ndarray, knobs: Knobs,
                seed_sequence: np.random.SeedSequence) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the knobs to clean answers.

    Parameters
    ----------
    data : DataFrame
        Clean answers (Likert items as integers 1..7); not modified.
    likert : sequence of str
        Likert items in questionnaire order (the order partial completes follow).
    attention : mapping
        Attention-check columns and their instructed answers.
    questions : sequence of str
        Every answered column in questionnaire order (for durations and partials).
    size : array
        Standardized latent firm size (drives MAR missingness; observed as
        ``firm_employees``, see the module docstring).

    Returns
    -------
    (answers, respondents)
        ``answers``: a new frame; ``respondents``: per row the respondent type,
        whether they finished, where they stopped, and the duration in seconds.
    """
    streams = [np.random.default_rng(s) for s in seed_sequence.spawn(7)]
    out = data.copy()
    n = len(out)
    lik = list(likert)
    kind = np.full(n, "attentive", dtype=object)
    u = streams[0].random(n)
    kind[u < knobs.careless] = "careless"
    kind[(u >= knobs.careless) & (u < knobs.careless + knobs.straightliners)] = "straightliner"
    careless = kind == "careless"
    straight = kind == "straightliner"
    if lik:
        block = out[lik].to_numpy(dtype=float, copy=True)
        rand = streams[1].integers(1, 8, size=block.shape)
        block[careless] = rand[careless]
        value = streams[1].integers(1, 8, size=n)
        block[straight] = value[straight][:, None]
        out = out.assign(**{c: block[:, j] for j, c in enumerate(lik)})
    for col, expected in attention.items():
        chance = streams[2].integers(1, 8, size=n)
        fail = (streams[2].random(n) < knobs.attention_fail) & ~careless & ~straight
        wrong = np.where(chance == expected, (chance % 7) + 1, chance)
        answers = np.full(n, float(expected))
        answers[careless] = chance[careless]
        answers[straight] = value[straight] if lik else chance[straight]
        answers[fail] = wrong[fail]
        out = out.assign(**{col: answers})
    order = [c for c in questions if c in out.columns]
    finished = np.ones(n, dtype=bool)
    stop_at = np.full(n, len(order))
    if knobs.partial > 0 and order:
        quits = streams[3].random(n) < knobs.partial
        stop_at[quits] = streams[3].integers(int(0.2 * len(order)), len(order), size=quits.sum())
        finished[quits] = False
        columns = {}
        for j, col in enumerate(order):
            gone = stop_at <= j
            if gone.any():
                values = out[col].to_numpy(copy=True)
                values = values.astype(object) if values.dtype == object else values.astype(float)
                values[gone] = None if values.dtype == object else np.nan
                columns[col] = values
        if columns:
            out = out.assign(**columns)
    if lik and (knobs.mcar > 0 or knobs.mar > 0):
        block = out[lik].to_numpy(dtype=float, copy=True)
        p_mar = knobs.mar * 2 * stats.norm.cdf(-np.asarray(size, dtype=float))  # mean about `mar`
        miss = (streams[4].random(block.shape) < knobs.mcar) | (streams[5].random(block.shape) < p_mar[:, None])
        block[miss] = np.nan
        out = out.assign(**{c: block[:, j] for j, c in enumerate(lik)})
    seconds = np.full(n, np.nan)
    if knobs.durations:
        answered = out[order].notna().sum(axis=1).to_numpy() if order else np.zeros(n)
        per_item = np.exp(streams[6].normal(np.log(6.0), 0.3, size=n))
        per_item[careless] *= 0.3
        per_item[straight] *= 0.35
        seconds = np.round(30 + answered * per_item).astype(float)
    out = out.copy()  # one consolidated block (the column updates above fragment the frame)
    respondents = pd.DataFrame({"type": kind, "finished": finished, "stopped_at": stop_at,
                                "duration_sec": seconds}, index=out.index)
    return out, respondents
