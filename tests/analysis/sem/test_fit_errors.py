"""Each failure is a named exception whose message says what, where and what to try."""

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.sem.fit import fit
from smecore.errors import (
    ConvergenceError,
    DataError,
    HeywoodCaseError,
    HeywoodCaseWarning,
    IdentificationError,
    NotPositiveDefiniteError,
    OptionError,
    SmeSurveyWarning,
)
from tests.analysis.conftest import HS_MODEL, POLDEM_MODEL


def exact_sample(cov: np.ndarray, n: int, seed: int = 0) -> pd.DataFrame:
    """Data whose ML sample covariance is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, len(cov)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T
    x = z @ np.linalg.cholesky(cov).T
    return pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(len(cov))])


HEYWOOD = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])  # lambda1^2 = .64/.5 > 1


def test_heywood_case_warns_and_is_recorded():
    with pytest.warns(HeywoodCaseWarning, match="x1 ~~ x1"):
        res = fit("F =~ x1 + x2 + x3", exact_sample(HEYWOOD, 200))
    assert any("Heywood" in w for w in res.warnings)
    est = res.parameters.set_index(["lhs", "op", "rhs"])["est"]
    assert est[("x1", "~~", "x1")] < 0


def test_heywood_case_can_be_an_error():
    with pytest.raises(HeywoodCaseError, match="negative variance"):
        fit("F =~ x1 + x2 + x3", exact_sample(HEYWOOD, 200), on_heywood="error")


def test_non_convergence(poldem_data):
    with pytest.raises(ConvergenceError, match="did not converge"):
        fit(POLDEM_MODEL, poldem_data, max_iter=1)


def test_sample_covariance_not_positive_definite(hs_data):
    data = hs_data.assign(x3=hs_data["x1"] + hs_data["x2"])
    with pytest.raises(NotPositiveDefiniteError, match="linearly dependent"):
        fit(HS_MODEL, data)


def test_negative_degrees_of_freedom(hs_data):
    with pytest.raises(IdentificationError, match="df = -2"):
        fit("F =~ x1 + x2\nx1 ~~ x2", hs_data)


def test_latent_variable_without_scale(hs_data):
    with pytest.raises(IdentificationError, match="'visual'.*no scale"):
        fit("visual =~ NA*x1 + x2 + x3", hs_data)


def test_empirically_unidentified_model_is_reported(hs_data):
    # two factors with two indicators each and a zero covariance: information singular
    model = "A =~ x1 + x2\nB =~ x4 + x5\nA ~~ 0*B"
    with pytest.raises(IdentificationError, match="information matrix is singular"), \
            pytest.warns(HeywoodCaseWarning):
        fit(model, hs_data)


def test_variables_not_in_data_are_named_with_a_suggestion(hs_data):
    renamed = hs_data.rename(columns={"x3": "X_3"})
    with pytest.raises(DataError, match=r"uses 1 variable\(s\) not in the data: 'x3' \(did you mean 'X_3'\?\)"):
        fit("visual =~ x1 + x2 + x3", renamed)


def test_no_suggestion_of_another_item(hs_data):
    """x10 is not a misspelling of x1 (another item of the numbered pattern), nor mk_2 of mkr_2."""
    with pytest.raises(DataError) as exc:
        fit("visual =~ x1 + x2 + x10", hs_data)
    assert "'x10'" in str(exc.value) and "did you mean" not in str(exc.value)
    from analysis.sem.data_prep import close_column

    assert close_column("mk_2", ["mkr_2", "mk_1", "tk_2"]) is None
    assert close_column("mk_2", ["MK2", "mkr_2"]) == "MK2"
    assert close_column("firm_country", ["firm_countyr", "country"]) == "firm_countyr"


def test_too_few_complete_rows(hs_data):
    with pytest.raises(DataError, match="only 3 usable row"):
        fit(HS_MODEL, hs_data.head(3))


def test_constant_column(hs_data):
    with pytest.raises(DataError, match="'x2' is constant"):
        fit(HS_MODEL, hs_data.assign(x2=4.0))


def test_non_numeric_column(hs_data):
    data = hs_data.astype({"x2": object})
    data.loc[5, "x2"] = "n/a"
    with pytest.raises(DataError, match=r"'x2' has 1 non-numeric value\(s\).*row 5"):
        fit(HS_MODEL, data)


def test_bad_option_lists_the_choices(hs_data):
    with pytest.raises(OptionError, match=r"'estimator'.*\['ML', 'MLR'\].*'mlr2'"):
        fit(HS_MODEL, hs_data, estimator="mlr2")


def test_listwise_exclusions_are_logged_and_input_untouched(hs_missing):
    before = hs_missing.copy()
    res = fit(HS_MODEL, hs_missing)
    assert len(res.excluded) + res.nobs[0] == len(hs_missing)
    assert res.excluded["reason"].str.startswith("missing value in").all()
    pd.testing.assert_frame_equal(hs_missing, before)


def test_implied_covariance_not_positive_definite_at_start(hs_data):
    # a fixed loading of 0 and a fixed zero residual variance make x1's implied variance 0
    with pytest.raises(NotPositiveDefiniteError, match="implied covariance"):
        fit("visual =~ 0*x1 + 1*x2 + x3\nx1 ~~ 0*x1", hs_data)


def test_cluster_options_are_checked(hs_data):
    with pytest.raises(OptionError, match="needs estimator='MLR'"):
        fit(HS_MODEL, hs_data, cluster="school")
    with pytest.raises(DataError, match="cluster column 'nope' is not in the data"):
        fit(HS_MODEL, hs_data, estimator="MLR", cluster="nope")
    one = hs_data.assign(site=1)
    with pytest.raises(DataError, match="fewer than 2 clusters"):
        fit(HS_MODEL, one, estimator="MLR", cluster="site")


def test_rows_without_cluster_are_logged(hs_data):
    data = hs_data.assign(site=np.arange(len(hs_data)) % 30).astype({"site": float})
    data.loc[data.index[:5], "site"] = np.nan
    with pytest.warns(SmeSurveyWarning, match="5 rows excluded: missing value in cluster column 'site'"):
        res = fit(HS_MODEL, data, estimator="MLR", cluster="site")
    assert res.nobs == (len(hs_data) - 5,)
    assert res.excluded["reason"].str.contains("missing value in cluster column 'site'").sum() == 5


def test_few_clusters_are_counted_and_warned_about():
    """Cluster-robust statistics report G (lavaan's nclusters) and warn below 30 clusters."""
    from pathlib import Path

    from smecore.errors import SmeSurveyWarning
    data = pd.read_csv(Path(__file__).resolve().parents[2] / "results" / "lavaan_extra" / "demo_twolevel.csv")
    model = "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6\nf2 ~ f1 + x1"
    assert data["cluster"].nunique() == 200
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmeSurveyWarning)  # 200 clusters: nothing to warn about
        res = fit(model, data, estimator="MLR", cluster="cluster")
    assert res.nclusters == (200,)
    few = data[data["cluster"].isin(sorted(data["cluster"].unique())[:12])]
    with pytest.warns(SmeSurveyWarning, match="only 12 clusters"):
        assert fit(model, few, estimator="MLR", cluster="cluster").nclusters == (12,)
    assert fit(model, data).nclusters == ()
MIMIC_X = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ sex + ageyr"


def _exo_na():
    from tests.analysis.sem.test_fit_reference import EXTRA

    data = pd.read_csv(EXTRA / "hsmissing_exo_na.csv")  # make_fitcore.R: school NA in 3 rows, ageyr in 5
    nobs = pd.read_csv(EXTRA / "hsmissing_exo_na_nobs.csv").set_index("case")["nobs"]
    return data, nobs


def _sme_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, SmeSurveyWarning)]


def test_rows_dropped_for_a_missing_covariate_are_warned_about():
    """lavaan (missing = "ml", fixed.x) warns '5 cases were deleted due to missing values in exogenous
    variable(s)'; we warn once with the count and the covariate, and use as many cases as lavaan."""
    data, nobs = _exo_na()
    with pytest.warns(SmeSurveyWarning) as record:
        res = fit(MIMIC_X, data, missing="fiml")
    messages = _sme_warnings(record)
    assert len(messages) == 1
    assert "5 rows excluded: missing on covariate(s) ageyr" in messages[0] and "excluded.csv" in messages[0]
    assert messages[0] in res.warnings
    assert sum(res.nobs) == nobs["fiml"]
    assert len(res.excluded) == len(data) - nobs["fiml"]


def test_rows_dropped_for_a_missing_group_are_warned_about_in_the_same_warning():
    data, nobs = _exo_na()
    with pytest.warns(SmeSurveyWarning) as record:
        res = fit(MIMIC_X, data, missing="fiml", group="school")
    messages = _sme_warnings(record)
    assert len(messages) == 1
    assert "3 rows excluded: missing value in group column 'school'" in messages[0]
    assert "5 rows excluded: missing on covariate(s) ageyr" in messages[0]
    assert sum(res.nobs) == nobs["fiml_group_school"]


def test_listwise_deletion_is_logged_but_not_warned_about(hs_missing):
    """As lavaan: listwise deletion (the default) is reported in nobs / excluded, without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmeSurveyWarning)
        res = fit(HS_MODEL, hs_missing)
    assert len(res.excluded) > 0 and res.warnings == ()
