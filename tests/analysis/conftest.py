"""Shared fixtures: lavaan 0.6.14 reference output (tests/results/lavaan, copied from
../shared/reference/lavaan with the script that produced it) and the models behind it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

# the comparison helpers of the lavaan reference tests assert, and should fail as a test module does
pytest.register_assert_rewrite("tests.analysis.sem.reference_compare")

REFERENCE = Path(__file__).resolve().parents[1] / "results" / "lavaan"

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

POLDEM_MODEL = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"""

MEDIATION_MODEL = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
indirect := a*b
total := c + a*b
"""

ORDINAL_MODEL = """
F1 =~ o1 + o2 + o3 + o4
F2 =~ o5 + o6 + o7 + o8
F3 =~ o9 + o10 + o11 + o12
"""


def read_reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name)


@pytest.fixture(scope="session")
def hs_data() -> pd.DataFrame:
    return read_reference("HolzingerSwineford1939.csv")


@pytest.fixture(scope="session")
def hs_missing() -> pd.DataFrame:
    return read_reference("HolzingerSwineford1939_missing10.csv")


@pytest.fixture(scope="session")
def poldem_data() -> pd.DataFrame:
    return read_reference("PoliticalDemocracy.csv")


@pytest.fixture(scope="session")
def ordinal_data() -> pd.DataFrame:
    return read_reference("ordinal_3f.csv")
