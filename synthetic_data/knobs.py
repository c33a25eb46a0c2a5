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
  for careless responders and straight-liners;
* page durations (``page_durations``, off by default): each respondent's
  duration split across the pages (:func:`page_durations`), drawn from a
  random stream of their own (:data:`PAGE_STREAM`), so that switching them on
  changes no answer and no other draw, and data generated with them off stay
  byte-identical (the sidecar lists the knob only when it is on).

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
#: Second entropy word of the page-duration stream (``SeedSequence([seed, PAGE_STREAM])``): independent
#: of the generator's ``SeedSequence(seed).spawn(...)`` children.
PAGE_STREAM = 7_000_011
#: Seconds of a duration spent outside the instrument's pages (welcome, consent, thanks): the constant
#: of the duration model in :func:`apply_knobs`.
OFF_PAGE_SECONDS = 30.0


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
    page_durations: bool = False

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Knobs:
        """Knobs from a mapping (e.g. ``common.yaml``); unknown names are an error listing the valid ones."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise OptionError(f"unknown knob(s) {unknown}; the knobs are {sorted(names)}")
        # the switches as booleans (``--knob page_durations=1`` gives 1.0), so sidecars record true / false
        knobs = cls(**{k: bool(v) if k in ("durations", "page_durations") else v for k, v in values.items()})
        knobs.check()
        return knobs

    @classmethod
    def clean(cls) -> Knobs:
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, False)

    def with_changes(self, **changes) -> Knobs:
        knobs = replace(self, **changes)
        knobs.check()
        return knobs

    def check(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("durations", "page_durations"):
                continue
            if not 0 <= float(v) <= (1 if f.name != "acquiescence_sd" else 2):
                raise OptionError(f"knob '{f.name}' = {v}: must be between 0 and "
                                  f"{1 if f.name != 'acquiescence_sd' else 2}")
        if self.careless + self.straightliners > 1:
            raise OptionError("knobs 'careless' + 'straightliners' exceed 1")
        if self.page_durations and not self.durations:
            raise OptionError("knob 'page_durations' splits the durations across pages: switch 'durations' on too")

    def as_dict(self) -> dict:
        """The settings; ``page_durations`` only when on (sidecars written before it existed stay as they were)."""
        out = asdict(self)
        if not self.page_durations:
            del out["page_durations"]
        return out


def with_columns(frame: pd.DataFrame, columns: Mapping[str, object]) -> pd.DataFrame:
    """``frame.assign(**columns)`` built in one step: the same columns, values and dtypes (new columns
    after the existing ones), without a column insertion per name (hundreds per generated sample)."""
    if not columns:
        return frame.copy()
    data = {c: columns[c] if c in columns else frame[c] for c in frame.columns}
    data.update({c: v for c, v in columns.items() if c not in data})
    return pd.DataFrame(data, index=frame.index)


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
    # the changed columns as arrays, the frame built once at the end: rebuilding a frame of ~180 columns
    # after each knob cost more than drawing the answers (and so did taking every column out as a Series)
    cols: dict[str, object] = {}

    def column(name: str):
        return cols[name] if name in cols else data[name]

    n = len(data)
    lik = list(likert)
    kind = np.full(n, "attentive", dtype=object)
    u = streams[0].random(n)
    kind[u < knobs.careless] = "careless"
    kind[(u >= knobs.careless) & (u < knobs.careless + knobs.straightliners)] = "straightliner"
    careless = kind == "careless"
    straight = kind == "straightliner"
    if lik:
        block = data[lik].to_numpy(dtype=float, copy=True)
        rand = streams[1].integers(1, 8, size=block.shape)
        block[careless] = rand[careless]
        value = streams[1].integers(1, 8, size=n)
        block[straight] = value[straight][:, None]
        cols.update({c: block[:, j] for j, c in enumerate(lik)})
    for col, expected in attention.items():
        chance = streams[2].integers(1, 8, size=n)
        fail = (streams[2].random(n) < knobs.attention_fail) & ~careless & ~straight
        wrong = np.where(chance == expected, (chance % 7) + 1, chance)
        answers = np.full(n, float(expected))
        answers[careless] = chance[careless]
        answers[straight] = value[straight] if lik else chance[straight]
        answers[fail] = wrong[fail]
        cols[col] = answers
    order = [c for c in questions if c in data.columns or c in cols]
    finished = np.ones(n, dtype=bool)
    stop_at = np.full(n, len(order))
    if knobs.partial > 0 and order:
        quits = streams[3].random(n) < knobs.partial
        stop_at[quits] = streams[3].integers(int(0.2 * len(order)), len(order), size=quits.sum())
        finished[quits] = False
        for j, col in enumerate(order):
            gone = stop_at <= j
            if gone.any():
                values = np.array(column(col), copy=True)
                values = values.astype(object) if values.dtype == object else values.astype(float)
                values[gone] = None if values.dtype == object else np.nan
                cols[col] = values
    if lik and (knobs.mcar > 0 or knobs.mar > 0):
        block = np.column_stack([np.asarray(column(c), dtype=float) for c in lik])
        p_mar = knobs.mar * 2 * stats.norm.cdf(-np.asarray(size, dtype=float))  # mean about `mar`
        miss = (streams[4].random(block.shape) < knobs.mcar) | (streams[5].random(block.shape) < p_mar[:, None])
        block[miss] = np.nan
        cols.update({c: block[:, j] for j, c in enumerate(lik)})
    out = pd.DataFrame({c: column(c) for c in data.columns} | cols, index=data.index)
    seconds = np.full(n, np.nan)
    if knobs.durations:
        answered = out[order].notna().sum(axis=1).to_numpy() if order else np.zeros(n)
        per_item = np.exp(streams[6].normal(np.log(6.0), 0.3, size=n))
        per_item[careless] *= 0.3
        per_item[straight] *= 0.35
        seconds = np.round(30 + answered * per_item).astype(float)
    respondents = pd.DataFrame({"type": kind, "finished": finished, "stopped_at": stop_at,
                                "duration_sec": seconds}, index=out.index)
    return out, respondents


def page_durations(answers: pd.DataFrame, pages: Mapping[str, Sequence[str]], seconds: np.ndarray,
                   rng: np.random.Generator) -> pd.DataFrame:
    """Each respondent's duration split across the pages (one column per page id, seconds, 2 decimals).

    The time on pages is the duration less :data:`OFF_PAGE_SECONDS`; page ``p`` gets the share
    ``w_p / sum(w)`` with ``w_p = (answered on p + 0.5) * exp(e_p)``, ``e_p ~ N(0, 0.2^2)``, over the pages
    the respondent reached (up to the last page with an answer); pages not reached, and every page of a
    row without a duration or without answers, are NaN. Seconds per item on a page therefore follow the
    respondent's own pace: careless responders and straight-liners, fast overall, are fast on every page.
    """
    n = len(answers)
    ids = list(pages)
    counts = np.column_stack([answers[[c for c in pages[p] if c in answers.columns]].notna().sum(axis=1)
                              .to_numpy(dtype=float) for p in ids]) if ids else np.zeros((n, 0))
    noise = np.exp(rng.normal(0.0, 0.2, size=counts.shape))
    has = counts > 0
    last = np.where(has.any(axis=1), counts.shape[1] - 1 - np.argmax(has[:, ::-1], axis=1), -1)
    reached = np.arange(counts.shape[1])[None, :] <= last[:, None]
    weights = np.where(reached, (counts + 0.5) * noise, 0.0)
    total = np.maximum(np.asarray(seconds, dtype=float) - OFF_PAGE_SECONDS, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = weights / weights.sum(axis=1, keepdims=True)
    out = np.round(total[:, None] * share, 2)
    out[~reached] = np.nan
    return pd.DataFrame(out, columns=ids, index=answers.index)
