"""The codebook schema lists every disallowed cell."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.ingest.schema import failures
from instrument import load_instrument


def test_every_failure_is_listed():
    inst = load_instrument()
    frame = pd.DataFrame({"tk_1": [7.0, 8.0, 0.0, np.nan], "firm_export_ratio": [50.0, 120.0, 100.0, -1.0],
                          "firm_cluster_org": ["x", "y", None, "z"]})
    got = failures(frame, inst)
    assert list(zip(got["index"], got["variable"], got["value"].astype(float), strict=True)) == [
        (1, "firm_export_ratio", 120.0), (1, "tk_1", 8.0), (2, "tk_1", 0.0), (3, "firm_export_ratio", -1.0)]


def test_clean_frame_has_no_failures():
    inst = load_instrument()
    assert failures(pd.DataFrame({"tk_1": [1.0, 7.0, np.nan]}), inst).empty
