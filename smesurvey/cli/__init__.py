"""The ``smesurvey`` command-line interface.

Each command group lives in its own module and registers itself on :data:`app`
(``instrument``: exports of the questionnaire; later ``generate``, ``fit``,
``analyze`` ...). :func:`main` is the console-script entry point: it turns any
:class:`~smesurvey.errors.SmeSurveyError` into one line on stderr and exit
status 2, without a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from smesurvey.errors import SmeSurveyError

app = typer.Typer(
    name="smesurvey",
    help="Survey instrument, synthetic data and SEM analysis for research on SME internationalisation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, highlight=False)

#: Command modules, in the order their commands appear in --help.
_COMMAND_MODULES: tuple[str, ...] = ()


def _register() -> None:
    # Imported here so that each module can import `app` from this package.
    # Each command module adds itself to this list.
    import importlib

    for module in _COMMAND_MODULES:
        importlib.import_module(f"smesurvey.cli.{module}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 on a user error)."""
    _register()
    try:
        app(args=argv, standalone_mode=False)
    except SmeSurveyError as exc:
        err_console.print(f"error [{exc.code}]: {exc}", markup=False)
        return 2
    except typer.Exit as exc:  # raised by --help and explicit exits
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors arrive as ClickException
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            err_console.print("aborted")
            return 1
        raise
    return 0


def entry() -> None:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main())
