"""``smesurvey generate``: synthetic responses from the population models."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from smecore.errors import OptionError
from smesurvey.cli import app


class KoboLayout(StrEnum):
    kobotoolbox = "kobotoolbox"
    odk_central = "odk_central"


class KoboSeparator(StrEnum):
    semicolon = ";"
    comma = ","


class KoboGroups(StrEnum):
    slash = "/"
    dash = "-"
    none = "none"


GROUP_SEPARATOR = {"/": "/", "-": "-", "none": ""}


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
    n: int = typer.Option(600, "--n", min=1, help="Number of firms."),
    seed: int = typer.Option(1, "--seed", min=0, help="Random seed; the same seed gives byte-identical files."),
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules, e.g. M1,M5 (M0 always included)."),
    clean: bool = typer.Option(False, "--clean", help="Switch every realism knob off."),
    fmt: str = typer.Option(None, "--format", help="csv, xlsx, sav, dta, qualtrics, limesurvey, kobo or redcap "
                                                   "(default: from the file suffix, else csv)."),
    knob: list[str] = typer.Option(None, "--knob", help="Override a knob, e.g. --knob careless=0.1 (repeatable)."),
    labels: bool = typer.Option(False, "--labels", help="Choice texts instead of codes (qualtrics, limesurvey, "
                                                        "kobo, redcap: the platforms' label exports)."),
    kobo_layout: KoboLayout = typer.Option(None, "--kobo-layout", help="kobo only: kobotoolbox (default) or "
                                                                       "odk_central (ODK Central's CSV)."),
    kobo_separator: KoboSeparator = typer.Option(None, "--kobo-separator",
                                                 help="kobo only: field separator, ';' (default) or ','."),
    kobo_groups: KoboGroups = typer.Option(None, "--kobo-groups", help="kobo only: group paths joined by "
                                                                       "'/' (default), '-', or none (bare names)."),
) -> None:
    """Generate N firms' answers to the questionnaire from the population model of WORLD.

    A .xlsx file with --format kobo is KoboToolbox's XLSX export."""
    from synthetic_data.generate import generate
    from synthetic_data.knobs import Knobs
    from synthetic_data.population import load_population
    from synthetic_data.writers import LABEL_FORMATS, data_format, write_data

    kobo_options = {k: v for k, v in (("layout", kobo_layout and kobo_layout.value),
                                      ("sep", kobo_separator and kobo_separator.value),
                                      ("group_separator", kobo_groups and GROUP_SEPARATOR[kobo_groups.value]))
                    if v is not None}
    from smecore.files import check_output_file

    check_output_file(out)
    fmt = fmt.lower() if fmt else None
    resolved = data_format(out, fmt)
    if kobo_options and resolved != "kobo":  # checked before any work starts
        raise OptionError(f"--kobo-layout / --kobo-separator / --kobo-groups apply to --format kobo, not {resolved}")
    if labels and resolved not in LABEL_FORMATS:
        raise OptionError(f"--labels applies to {', '.join(LABEL_FORMATS)}, not {resolved}")
    mods = [m.strip().upper() for m in modules.split(",") if m.strip()] if modules else None
    knobs = None
    overrides = _knob_values(knob)
    if overrides and clean:
        raise OptionError("--clean switches every knob off; do not combine it with --knob")
    if overrides:
        pop = load_population(world)
        knobs = Knobs.from_mapping({**pop.common.knobs, **overrides})
    gen = generate(world=world, n=n, seed=seed, modules=mods, knobs=knobs, clean=clean)
    for p in write_data(gen, out, fmt, labels=labels, kobo_options=kobo_options or None):
        typer.echo(f"wrote {p}")
