"""The settings of a power study and their checks (every bad value is an :class:`OptionError`).

A :class:`PowerSettings` says what is simulated (hypotheses, sample sizes, replications,
worlds, theory-world paths set by ``--set``, bootstrap or Monte Carlo decision of indirect
effects, seed). ``--n`` takes ``START:STOP:STEP`` (inclusive), a comma-separated list, or one
number; ``--hypotheses`` ids of the registry; ``--set`` ``TAG=VALUE`` pairs
(:func:`synthetic_data.population.resolve_override`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from smecore.errors import OptionError

WORLDS = ("theory", "null")
#: replications of one (world, N) per task: the unit of scheduling, streaming and resume
BLOCK = 10
#: largest sample size accepted (the generator's own limit is far above)
MAX_N = 100_000
DEFAULT_NS = tuple(range(100, 1501, 100))
DEFAULT_REPS = 500


@dataclass(frozen=True)
class PowerSettings:
    """What a power study simulates; ``key()`` names everything that changes its numbers."""

    hypotheses: tuple[str, ...]
    ns: tuple[int, ...] = DEFAULT_NS
    reps: int = DEFAULT_REPS
    worlds: tuple[str, ...] = ("theory",)
    overrides: tuple[tuple[str, float], ...] = ()
    n_boot: int = 0  # 0: indirect effects decided by the Monte Carlo CI; N: by N bootstrap resamples
    seed: int = 1
    registry_sha256: str = field(default="", compare=False)
    instrument_sha256: str = field(default="", compare=False)

    def key(self) -> dict:
        """The settings every replication's numbers depend on (a resumed run must match them)."""
        return {"seed": self.seed, "overrides": [list(o) for o in self.overrides], "bootstrap": self.n_boot,
                "registry_sha256": self.registry_sha256, "instrument_sha256": self.instrument_sha256}

    def as_dict(self) -> dict:
        d = asdict(self)
        d["overrides"] = {k: v for k, v in self.overrides}
        return d


def parse_ns(text: str | Sequence[int] | int) -> tuple[int, ...]:
    """``"100:1500:100"`` (inclusive), ``"200,400,800"``, ``"300"`` or a sequence -> sorted sizes."""
    if isinstance(text, int):
        values = [text]
    elif isinstance(text, str):
        t = text.replace(" ", "")
        m = re.fullmatch(r"(\d+):(\d+)(?::(\d+))?", t)
        if m:
            start, stop, step = int(m[1]), int(m[2]), int(m[3] or 100)
            if step <= 0 or stop < start:
                raise OptionError(f"--n {text!r}: START:STOP:STEP needs STOP >= START and STEP > 0 "
                                  "(e.g. 100:1500:100)")
            values = list(range(start, stop + 1, step))
        elif re.fullmatch(r"\d+(,\d+)*", t):
            values = [int(x) for x in t.split(",")]
        else:
            raise OptionError(f"--n {text!r}: give START:STOP:STEP (e.g. 100:1500:100), a list (200,400,800) "
                              "or one number")
    else:
        values = [int(x) for x in text]
    bad = [v for v in values if not 20 <= v <= MAX_N]
    if bad:
        raise OptionError(f"--n: sample sizes must lie between 20 and {MAX_N:,}; got {bad}")
    if not values:
        raise OptionError("--n: no sample size given")
    return tuple(sorted(set(values)))


def parse_hypotheses(text: str | Sequence[str] | None, known: Sequence[str]) -> tuple[str, ...]:
    """Ids in registry order; ``None`` / ``"all"`` = every hypothesis of the registry."""
    if text is None or (isinstance(text, str) and text.strip().lower() in ("", "all")):
        return tuple(known)
    items = text.split(",") if isinstance(text, str) else list(text)
    wanted = [x.strip().upper() for x in items if x.strip()]
    unknown = [x for x in wanted if x not in known]
    if unknown:
        raise OptionError(f"--hypotheses: unknown hypothesis {', '.join(unknown)}; the registry has "
                          f"{', '.join(known)}")
    return tuple(h for h in known if h in wanted)


def parse_overrides(items: Sequence[str] | Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    """``["H14=0.30", "H10:LC=0.1"]`` or ``{"H14": 0.30}`` -> ``(("H14", 0.3), ...)`` (checked for form
    and range here, for the paths they name by :func:`synthetic_data.population.with_overrides`)."""
    if not items:
        return ()
    pairs = list(items.items()) if isinstance(items, Mapping) else []
    if not isinstance(items, Mapping):
        for item in items:
            tag, sep, value = str(item).partition("=")
            if not sep or not tag.strip():
                raise OptionError(f"--set {item!r}: give TAG=VALUE, e.g. --set H14=0.30 or --set H10:PEG~LC=0.10")
            try:
                pairs.append((tag.strip(), float(value)))
            except ValueError:
                raise OptionError(f"--set {item!r}: {value!r} is not a number") from None
    out = []
    for tag, value in pairs:
        if not re.fullmatch(r"[Hh]\d+(:\S+)?", tag):
            raise OptionError(f"--set {tag}={value}: the tag is a hypothesis id (H14) or id:path (H10:PEG~LC)")
        if not -1 < float(value) < 1:
            raise OptionError(f"--set {tag}={value}: a standardized path must lie strictly between -1 and 1")
        out.append((tag.upper() if ":" not in tag else tag[0].upper() + tag[1:], float(value)))
    tags = [t for t, _ in out]
    if len(set(tags)) < len(tags):
        raise OptionError(f"--set: {sorted({t for t in tags if tags.count(t) > 1})} given twice")
    return tuple(out)


def parse_worlds(world: str) -> tuple[str, ...]:
    if world == "both":
        return WORLDS
    if world not in WORLDS:
        raise OptionError(f"--world must be one of theory, null, both. Got {world!r}.")
    return (world,)


def check_counts(reps: int, n_boot: int, seed: int) -> None:
    if not isinstance(reps, int) or reps < 1:
        raise OptionError(f"--reps must be a positive whole number; got {reps!r}")
    if not isinstance(n_boot, int) or n_boot < 0 or 0 < n_boot < 100:
        raise OptionError(f"--bootstrap must be 0 (Monte Carlo CI decides indirect effects) or at least 100 "
                          f"resamples; got {n_boot!r}")
    if not isinstance(seed, int) or seed < 0:
        raise OptionError(f"--seed must be a whole number >= 0; got {seed!r}")


def file_sha256(paths: Sequence) -> str:
    """SHA-256 over the files' names and bytes, in the given order."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()
