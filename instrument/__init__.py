"""The questionnaire as data: scales, constructs and items with their provenance.

``load_instrument()`` reads and validates the definition in ``definition/``
(or another folder) and returns an immutable :class:`Instrument`; exports to
survey platforms live in :mod:`instrument.export`.
"""

from instrument.load import load_instrument
from instrument.model import Instrument, Variable

__all__ = ["Instrument", "Variable", "load_instrument"]
