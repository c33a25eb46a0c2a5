"""Shared plumbing for the SME internationalisation survey kit.

The three working packages sit beside this one and data flows one way:
``instrument`` -> ``synthetic_data`` -> ``analysis``. This package holds what
all of them share (the exception family, provenance records) and the
``smesurvey`` command-line interface.
"""

__version__ = "0.1.0"
