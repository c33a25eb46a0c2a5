"""The pilot's thresholds: stated with their sources, configurable from a YAML file or ``name=value`` pairs.

Every rule of the pilot (:mod:`analysis.pilot.pilot`) reads its cut-off from
:class:`PilotThresholds`; :data:`THRESHOLD_SOURCES` says where each default
comes from, and the pilot report prints both. ``cut_rules`` names the rules
whose flags make an item a suggested cut; the other rules only flag (by
default floor/ceiling effects: skewed 7-point agreement items pass 15% at an
end often enough that cutting on it alone would empty scales).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import yaml

from smecore.errors import OptionError

#: The rules an item can be flagged by (the ``cut_rules`` vocabulary).
RULES = ("item_total", "alpha_gain", "loading", "cross_loading", "unexpected_factor", "missing", "floor_ceiling")

#: Where each default comes from (shown in the pilot report beside the value).
THRESHOLD_SOURCES = {
    "item_total": "corrected item-total correlation below this: the item shares little with its scale "
                  "(Nunnally & Bernstein 1994; DeVellis 2017: .30)",
    "alpha_gain": "alpha if the item is deleted exceeds the scale's alpha by more than this (project default)",
    "loading": "primary EFA loading below this: weak indicator (Hair et al. 2019: .40 for N of 100-200)",
    "cross_loading": "a loading of this size or more on a second factor: cross-loading "
                     "(Tabachnick & Fidell 2013: .32, 10% shared variance)",
    "floor_ceiling": "share of answers at the lowest or highest scale point above this: floor / ceiling "
                     "effect (Terwee et al. 2007: 15%)",
    "missing": "share of the firms asked who left the item unanswered above this (project default)",
    "alpha_min": "scale alpha or omega below this is reported as low (Nunnally 1978: .70)",
    "min_items": "a construct keeps at least this many items: cuts stop there (a congeneric factor needs "
                 "3 indicators to be identified on its own)",
    "cut_rules": "the rules whose flags make an item a suggested cut; the others only flag",
    "parallel_iterations": "random data sets of Horn's parallel analysis (95th percentile, Glorfeld 1995)",
    "seed": "seed of the parallel analysis' random data (same seed, same report)",
}


@dataclass(frozen=True)
class PilotThresholds:
    """Cut-offs of the pilot's rules (see :data:`THRESHOLD_SOURCES` for each default's source)."""

    item_total: float = 0.30
    alpha_gain: float = 0.02
    loading: float = 0.40
    cross_loading: float = 0.32
    floor_ceiling: float = 0.15
    missing: float = 0.10
    alpha_min: float = 0.70
    min_items: int = 3
    cut_rules: tuple[str, ...] = ("item_total", "alpha_gain", "loading", "cross_loading", "unexpected_factor",
                                  "missing")
    parallel_iterations: int = 100
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("item_total", "alpha_gain", "loading", "cross_loading", "floor_ceiling", "missing",
                     "alpha_min"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise OptionError(f"pilot threshold '{name}' must be between 0 and 1; got {value}")
        if self.min_items < 2:
            raise OptionError(f"pilot threshold 'min_items' must be at least 2; got {self.min_items}")
        if self.parallel_iterations < 10:
            raise OptionError(f"pilot threshold 'parallel_iterations' must be at least 10; got "
                              f"{self.parallel_iterations}")
        unknown = [r for r in self.cut_rules if r not in RULES]
        if unknown:
            raise OptionError(f"pilot threshold 'cut_rules': unknown rule(s) {unknown}; choose from {list(RULES)}")

    def table(self) -> list[dict]:
        """``name, value, source`` per threshold (for reports)."""
        return [{"name": f.name, "value": ", ".join(v) if isinstance(v := getattr(self, f.name), tuple) else v,
                 "source": THRESHOLD_SOURCES[f.name]} for f in fields(self)]

    def as_yaml(self) -> str:
        """The thresholds as a YAML file :func:`load_thresholds` reads back."""
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return yaml.safe_dump(values, sort_keys=False, allow_unicode=True)


def _convert(name: str, value: object, where: str) -> object:
    """``value`` as the type of field ``name`` (strings from the command line are parsed)."""
    kind = {f.name: f.type for f in fields(PilotThresholds)}[name]
    try:
        if name == "cut_rules":
            items = value.split(",") if isinstance(value, str) else list(value or [])
            return tuple(str(v).strip() for v in items if str(v).strip())
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise OptionError(f"{where}: pilot threshold '{name}' must be "
                          f"{'a whole number' if kind == 'int' else 'a number' if kind == 'float' else 'a list'}"
                          f"; got {value!r}") from None


def with_settings(base: PilotThresholds, settings: Mapping[str, object], where: str = "thresholds") -> PilotThresholds:
    """``base`` with the named thresholds changed; an unknown name is an :class:`OptionError` listing the known."""
    known = [f.name for f in fields(PilotThresholds)]
    unknown = [k for k in settings if k not in known]
    if unknown:
        raise OptionError(f"{where}: unknown pilot threshold(s) {unknown}; known: {', '.join(known)}")
    return replace(base, **{k: _convert(k, v, where) for k, v in settings.items()})


def load_thresholds(path: str | Path, base: PilotThresholds | None = None) -> PilotThresholds:
    """Thresholds from a YAML mapping ``name: value`` (read with ``yaml.safe_load``); names left out keep
    their defaults (or ``base``'s)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OptionError(f"{path}: cannot read the thresholds file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise OptionError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise OptionError(f"{path}: expected a mapping of threshold names to values, e.g. 'loading: 0.5'")
    return with_settings(base or PilotThresholds(), data, str(path))


def parse_settings(pairs: list[str] | None, option: str = "--set") -> dict[str, str]:
    """``["loading=0.5", "cut_rules=item_total,missing"]`` as a mapping; a pair without ``=`` is an error."""
    out = {}
    for pair in pairs or []:
        name, eq, value = pair.partition("=")
        if not eq or not name.strip():
            raise OptionError(f"{option} {pair!r}: write name=value, e.g. {option} loading=0.5")
        out[name.strip()] = value.strip()
    return out
