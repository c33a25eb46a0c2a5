"""Provenance records written next to every output: package versions, seeds, options."""

from __future__ import annotations

import platform
from functools import cache
from importlib import metadata

#: Distributions whose versions change numbers or file layouts.
TRACKED_DISTRIBUTIONS = (
    "sme-intl-survey",
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "jinja2",
    "statsmodels",
    "pydantic",
    "pyyaml",
    "pyxform",
    "pyreadstat",
    "openpyxl",
)


def package_versions(names: tuple[str, ...] = TRACKED_DISTRIBUTIONS) -> dict[str, str]:
    """Return ``{distribution: version}`` for the installed distributions in ``names``.

    Distributions that are not installed are reported as ``"not installed"``;
    the Python version is included under ``"python"``. Looked up once per process
    (the installed versions do not change under a running program; a power study
    generates thousands of samples, each with its provenance); a new dict each call.
    """
    return dict(_versions(tuple(names)))


@cache
def _versions(names: tuple[str, ...]) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
