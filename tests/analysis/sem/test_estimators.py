"""The estimator registry gives lavaan 0.6.14's lavOptions() for each estimator and missing-data choice."""

from __future__ import annotations

import pytest

from analysis.sem.estimators import ESTIMATORS, WLS_ESTIMATORS, get_estimator, objective_class
from analysis.sem.fit import fit
from analysis.sem.objective import FIMLObjective, MLObjective
from smecore.errors import OptionError
from tests.analysis.conftest import HS_MODEL

# lavaan 0.6.14: lavInspect(fit, "options")[c("information", "se", "test")]
LAVAAN = {("ML", "listwise", None): ("expected", "standard", "standard"),
          ("ML", "fiml", None): ("observed", "standard", "standard"),
          ("MLR", "listwise", None): ("observed", "robust.huber.white", "yuan.bentler.mplus"),
          ("MLR", "fiml", None): ("observed", "robust.huber.white", "yuan.bentler.mplus"),
          ("MLR", "listwise", "school"): ("observed", "robust.cluster", "yuan.bentler.mplus"),
          # ordinal items (lavaan 0.6.14, ordered = TRUE)
          ("WLSMV", "listwise", None): ("expected", "robust.sem", "scaled.shifted"),
          ("WLSM", "listwise", None): ("expected", "robust.sem", "satorra.bentler"),
          ("ULSMV", "pairwise", None): ("expected", "robust.sem", "scaled.shifted"),
          ("DWLS", "listwise", None): ("expected", "standard", "standard"),
          ("ULS", "listwise", None): ("expected", "standard", "standard")}


@pytest.mark.parametrize(("key", "expected"), list(LAVAAN.items()))
def test_registry_matches_lavaan_options(key, expected):
    name, missing, cluster = key
    e = get_estimator(name)
    assert (e.information(missing), e.se(cluster), e.test) == expected


@pytest.mark.parametrize(("key", "expected"), list(LAVAAN.items())[:4])
def test_fit_takes_its_options_from_the_registry(hs_data, key, expected):
    name, missing, _ = key
    res = fit(HS_MODEL, hs_data, estimator=name, missing=missing)
    assert (res.options.information, res.options.se, res.options.test) == expected
    assert isinstance(res.estimation.objective, FIMLObjective if missing == "fiml" else MLObjective)


def test_unknown_choices_name_the_registered_ones():
    with pytest.raises(OptionError, match=r"\['ML', 'MLR'\] \(continuous items\) or \['WLSMV', 'WLSM', 'ULSMV', "
                                          r"'DWLS', 'ULS'\] \(ordinal items"):
        get_estimator("mlr2")
    with pytest.raises(OptionError, match="fiml"):
        objective_class("pairwise")
    assert set(ESTIMATORS) == {"ML", "MLR", "WLSMV", "WLSM", "ULSMV", "DWLS", "ULS"}
    assert set(WLS_ESTIMATORS) == {"WLSMV", "WLSM", "ULSMV", "DWLS", "ULS"}
