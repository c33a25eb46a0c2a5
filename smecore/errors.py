"""One exception family for the whole package.

Every error a user can cause derives from :class:`SmeSurveyError`. Messages name
the file, row, column or parameter concerned and say what to do; the CLI prints
them as one line (no traceback) and exits with status 2.

Each class carries a stable ``code`` so that documentation, logs and tests can
refer to a kind of failure without matching message text.
"""

from __future__ import annotations

from collections.abc import Iterable


class SmeSurveyError(Exception):
    """Base class of every error this package raises on bad input or a failed fit."""

    code = "SME000"


class OptionError(SmeSurveyError):
    """A function or command was called with an option value it does not accept."""

    code = "SME010"


class DefinitionError(SmeSurveyError):
    """A definition file (instrument, hypothesis registry, population model) is invalid.

    ``problems`` lists every problem found, each already prefixed with its
    location (``"constructs/ik.yaml: items[2].text.en: missing"``), so that a
    user can fix all of them in one pass.
    """

    code = "SME100"

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        n = len(self.problems)
        head = self.problems[0] if n == 1 else f"{n} problems in the definition:\n  - " + "\n  - ".join(self.problems)
        super().__init__(head)


class DataError(SmeSurveyError):
    """A data file or data frame cannot be used as given (missing column, bad value, ...)."""

    code = "SME200"


class ModelSyntaxError(SmeSurveyError):
    """A model written in lavaan syntax cannot be parsed."""

    code = "SME300"


class IdentificationError(SmeSurveyError):
    """The model is not identified (negative degrees of freedom, latent variable without a scale)."""

    code = "SME310"


class EstimationError(SmeSurveyError):
    """Estimation failed (base class of the specific estimation failures below)."""

    code = "SME400"


class ConvergenceError(EstimationError):
    """The optimiser did not reach a solution."""

    code = "SME410"


class NotPositiveDefiniteError(EstimationError):
    """A sample or model-implied covariance matrix is not positive definite."""

    code = "SME420"


class HeywoodCaseError(EstimationError):
    """A variance was estimated negative (Heywood case) and the caller asked for an error."""

    code = "SME430"


class SmeSurveyWarning(UserWarning):
    """Base class of the package's warnings."""


class HeywoodCaseWarning(SmeSurveyWarning):
    """A variance was estimated negative (Heywood case); the solution is improper."""


class ConvergenceWarning(SmeSurveyWarning):
    """The optimiser stopped with a warning that does not invalidate the solution."""
