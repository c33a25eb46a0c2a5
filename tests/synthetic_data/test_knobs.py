"""synthetic_data.knobs helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd


def test_with_columns_equals_assign():
    from synthetic_data.knobs import with_columns

    frame = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"), "b": ["x", "y", None], "c": [0.5, 1.5, 2.5]},
                         index=[7, 8, 9])
    new = {"c": np.array([1.0, np.nan, 3.0]), "a": pd.arrays.IntegerArray(np.array([4, 5, 6]), np.array([0, 1, 0], bool)),
           "d": np.array([1, 2, 3], dtype=np.int8)}
    got, want = with_columns(frame, new), frame.assign(**new)
    assert got.equals(want) and list(got.columns) == ["a", "b", "c", "d"] and (got.dtypes == want.dtypes).all()
    assert frame["c"].tolist() == [0.5, 1.5, 2.5]  # not modified
    assert with_columns(frame, {}).equals(frame)
