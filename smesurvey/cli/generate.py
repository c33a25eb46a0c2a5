"""``smesurvey generate``: synthetic responses from the population models."""

from __future__ import annotations

from pathlib import Path

import typer

from smecore.errors import OptionError
from smesurvey.cli import app


def _knob_values(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise OptionError(f"--knob expects name=value, got '{pair}'")
        name, value = pair.split("=", 1)
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise OptionError(f"--knob {name}: '{value}' is not a number") from None
    return out


@app.command("generate")
def generate_command(
    out: Path = typer.Option(..., "--out", help="Data file to write (a .sidecar.json is written beside it)."),
    world: str = typer.Option("theory", "--world", help="theory (the hypotheses hold) or null (tested effects are zero)."),
    n: int = typer.Option(600, "--n", help="Number of firms."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives byte-identical files."),
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules, e.g. M1,M5 (M0 always included)."),
    clean: bool = typer.Option(False, "--clean", help="Switch every realism knob off."),
    fmt: str = typer.Option(None, "--format", help="csv, xlsx, sav, dta, qualtrics, limesurvey, kobo or redcap "
                                                   "(default: from the file suffix, else csv)."),
    knob: list[str] = typer.Option(None, "--knob", help="Override a knob, e.g. --knob careless=0.1 (repeatable)."),
) -> None:
    """Generate N firms' answers to the questionnaire from the population model of WORLD."""
    from synthetic_data.generate import generate
    from synthetic_data.knobs import Knobs
    from synthetic_data.population import load_population
    from synthetic_data.writers import write_data

    mods = [m.strip().upper() for m in modules.split(",") if m.strip()] if modules else None
    knobs = None
    overrides = _knob_values(knob)
    if overrides and clean:
        raise OptionError("--clean switches every knob off; do not combine it with --knob")
    if overrides:
        pop = load_population(world)
        knobs = Knobs.from_mapping({**pop.common.knobs, **overrides})
    gen = generate(world=world, n=n, seed=seed, modules=mods, knobs=knobs, clean=clean)
    for p in write_data(gen, out, fmt.lower() if fmt else None):
        typer.echo(f"wrote {p}")
