"""The ``smesurvey`` command-line interface.

Each command group lives in its own module and registers itself on :data:`app`
(``instrument``: exports of the questionnaire; later ``generate``, ``fit``,
``analyze`` ...). :func:`main` is the console-script entry point: it turns any
:class:`~smecore.errors.SmeSurveyError` into one line on stderr and exit
status 2, without a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from smecore.errors import SmeSurveyError

app = typer.Typer(
    name="smesurvey",
    help="Survey instrument, synthetic data and SEM analysis for research on SME internationalisation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring paragraphs reflow instead of keeping source line breaks
)

err_console = Console(stderr=True, highlight=False)

#: Command modules, in the order their commands appear in --help.
_COMMAND_MODULES: tuple[str, ...] = ("demo", "instrument", "generate", "ingest", "fit", "analyze", "reproduce", "export_r")


def _register() -> None:
    # Imported here so that each module can import `app` from this package.
    # Each command module adds itself to this list.
    import importlib

    for module in _COMMAND_MODULES:
        importlib.import_module(f"smesurvey.cli.{module}")


@app.callback()
def _root() -> None:
    """Survey instrument, synthetic data and SEM analysis for research on SME internationalisation."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 on a user error or bad usage)."""
    _register()
    try:
        app(args=argv, prog_name="smesurvey", standalone_mode=True)
    except SmeSurveyError as exc:
        err_console.print(f"error [{exc.code}]: {exc}", markup=False, soft_wrap=True)
        return 2
    except SystemExit as exc:  # click ends every standalone run with sys.exit(code)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def entry() -> None:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main())
