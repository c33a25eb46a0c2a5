"""JSON as every output of the package writes it: valid JSON, stable bytes.

numpy and pandas scalars become plain numbers or booleans, NaN / infinity /
``pd.NA`` become ``null`` (``json.dumps`` would write ``NaN``, which is not
JSON), other objects their ``str()``. Indented by 2 with a final newline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def plain(obj: Any) -> Any:
    """``obj`` with numpy/pandas scalars as Python values and non-finite numbers as ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if obj is None or isinstance(obj, str):
        return obj
    try:
        import pandas as pd

        if obj is pd.NA or obj is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return str(obj)


def dumps(obj: Any, *, sort_keys: bool = False) -> str:
    """JSON text of ``obj`` (see the module docstring), ending with a newline."""
    return json.dumps(plain(obj), indent=2, sort_keys=sort_keys, allow_nan=False) + "\n"
