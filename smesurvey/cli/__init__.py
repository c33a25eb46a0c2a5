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

err_console = Console(stderr=True, highlight=False, emoji=False)  # ":100:" in a message stays as written

#: Command modules, in the order their commands appear in --help.
_COMMAND_MODULES: tuple[str, ...] = ("demo", "instrument", "generate", "ingest", "pilot", "fit", "analyze", "power",
                                      "reproduce", "export_r")


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
    """Run the CLI; return the exit status (0 ok, 2 on a user error or bad usage).

    Package errors and usage errors (an unknown option, ``--bootstrap -1`` below an option's ``min=``, a
    missing argument) are printed as one line on stderr; ``smesurvey`` alone prints the help."""
    # typer re-exports neither UsageError nor NoArgsIsHelpError; they live in its bundled click
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    _register()
    try:
        rv = app(args=argv, prog_name="smesurvey", standalone_mode=False)
    except SmeSurveyError as exc:
        err_console.print(f"error [{exc.code}]: {exc}", markup=False, soft_wrap=True)
        return 2
    except NoArgsIsHelpError as exc:
        exc.show()
        return exc.exit_code
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "smesurvey"
        message = " ".join(exc.format_message().split())
        err_console.print(f"error [usage]: {where}: {message} (see '{where} --help')", markup=False,
                          soft_wrap=True)
        return exc.exit_code
    except typer.TyperException as exc:  # click's other exceptions (a file that cannot be opened, ...)
        err_console.print(f"error: {' '.join(str(exc).split())}", markup=False, soft_wrap=True)
        return int(getattr(exc, "exit_code", 1))
    except typer.Abort:
        err_console.print("aborted", markup=False)
        return 1
    except SystemExit as exc:  # a command ending with sys.exit(code)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0


def entry() -> None:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main())
