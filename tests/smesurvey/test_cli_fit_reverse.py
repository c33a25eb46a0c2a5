"""`smesurvey fit` and the questionnaire's reverse-keyed items: --reverse-score reverse-scores them on
the way in (provenance.json lists them); without it a one-line warning names them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from instrument import load_instrument
from smesurvey.cli import main
from tests.conftest import THEORY_600

REVERSED = ["le_4", "lc_4", "peg_4"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m2.lav"
    assert main(["instrument", "export", "--format", "lavaan", "--modules", "M2", "--out", str(path)]) == 0
    return path


def _fit(model, tmp_path, capsys, *extra, data=THEORY_600):
    out = tmp_path / "out"
    capsys.readouterr()
    rc = main(["fit", str(model), str(data), "--out", str(out), "--quiet", *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    params = pd.read_csv(out / "parameters.csv", keep_default_na=False, na_values=[""])
    loadings = params[params["op"] == "=~"].set_index("rhs")["std.all"]
    return loadings, json.loads((out / "provenance.json").read_text(encoding="utf-8")), captured


def test_reverse_score_gives_positive_loadings_and_is_recorded(model, tmp_path, capsys):
    loadings, prov, captured = _fit(model, tmp_path, capsys, "--reverse-score")
    assert (loadings > 0).all() and (loadings[REVERSED] > 0.3).all()
    assert prov["options"]["reverse_score"] is True
    assert prov["reverse_scored"]["items"] == REVERSED and "8 - x" in prov["reverse_scored"]["rule"]
    assert "reverse-scored 3 reverse-keyed item(s)" in captured.out and "warning" not in captured.err


def test_without_the_option_one_warning_line_names_the_items(model, tmp_path, capsys):
    loadings, prov, captured = _fit(model, tmp_path, capsys)
    assert (loadings[REVERSED] < 0).all()  # fitted as answered
    lines = [ln for ln in captured.err.splitlines() if "reverse-keyed" in ln]
    assert len(lines) == 1 and "(le_4, lc_4, peg_4)" in lines[0] and "--reverse-score" in lines[0]
    assert prov["options"]["reverse_score"] is None and prov["reverse_scored"] is None


def test_no_reverse_score_means_the_data_are_scored_already(model, tmp_path, capsys):
    scored = tmp_path / "scored.csv"
    load_instrument().reverse_scored(pd.read_csv(THEORY_600)).to_csv(scored, index=False)
    loadings, prov, captured = _fit(model, tmp_path, capsys, "--no-reverse-score", data=scored)
    assert (loadings[REVERSED] > 0).all() and "reverse-keyed" not in captured.err
    assert prov["options"]["reverse_score"] is False


def test_missing_codes_are_not_reversed(model, tmp_path, capsys):
    coded = tmp_path / "coded.csv"
    data = pd.read_csv(THEORY_600)
    data[REVERSED + ["le_1"]] = data[REVERSED + ["le_1"]].fillna(-99)
    data.to_csv(coded, index=False)
    plain, _, _ = _fit(model, tmp_path, capsys, "--reverse-score")
    loadings, prov, _ = _fit(model, tmp_path, capsys, "--reverse-score", "--missing-codes=-99", data=coded)
    pd.testing.assert_series_equal(loadings, plain)  # -99 set missing, not reversed into 107
    assert prov["cells_set_missing"] > 0


def test_reverse_score_on_a_model_without_such_items_says_so(tmp_path, capsys):
    model = tmp_path / "m.lav"
    model.write_text("LE =~ le_1 + le_2 + le_3\n", encoding="utf-8")
    _, prov, captured = _fit(model, tmp_path, capsys, "--reverse-score")
    assert "nothing was reverse-scored" in captured.err and prov["reverse_scored"] is None
