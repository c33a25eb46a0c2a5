"""Generator formats owned by plat-b: Stata .dta (value labels, byte-identical per seed) and the Kobo layout."""

from __future__ import annotations

import pyreadstat

from instrument import load_instrument
from instrument.platforms import kobo
from instrument.platforms.tables import read_table
from synthetic_data.generate import generate
from synthetic_data.writers import write_data


def test_dta_has_value_labels_and_is_byte_identical_per_seed(tmp_path):
    gen = generate(world="theory", n=20, seed=2, modules=["M4"])
    a = write_data(gen, tmp_path / "a.dta")[0]
    b = write_data(gen, tmp_path / "b.dta", "dta")[0]
    assert a.read_bytes() == b.read_bytes()
    frame, meta = pyreadstat.read_dta(str(a), user_missing=True)
    assert list(frame.columns) == list(gen.data.columns)
    assert len(frame) == 20
    item = next(v for v in load_instrument().select(["M4"]).variables()
                if v.scale and v.kind == "likert" and gen.data[v.name].isna().any())
    # "no answer" is Stata's extended missing value .a, labelled, in exactly the unanswered cells
    assert meta.variable_value_labels[item.name]["a"] == "No answer"
    assert meta.variable_value_labels[item.name][1] == "Strongly disagree"
    assert meta.missing_user_values[item.name] == ["a"]
    assert list(frame[item.name].astype(object).eq("a")) == list(gen.data[item.name].isna())


def test_generated_kobo_export_reads_back_with_respondent_ids(tmp_path):
    gen = generate(world="theory", n=20, seed=2, modules=["M4"])
    path = write_data(gen, tmp_path / "k.csv", "kobo")[0]
    inst = load_instrument().select(["M4"])
    table = read_table(path)
    assert kobo.detect(table) is not None
    raw = kobo.read_responses(table, inst)
    assert raw.meta["respondent"].tolist() == [str(x) for x in gen.data["respondent_id"]]
    assert raw.source_row.tolist() == list(range(1, 21))
    assert raw.meta["duration_sec"].tolist() == gen.data["duration_sec"].fillna(600).astype(int).astype(float).tolist()


def test_generated_redcap_export_is_byte_identical_and_reads_back(tmp_path):
    from instrument.platforms import redcap

    gen = generate(world="theory", n=20, seed=2, modules=["M4"])
    a = write_data(gen, tmp_path / "a.csv", "redcap")[0]
    b = write_data(gen, tmp_path / "b.csv", "redcap")[0]
    assert a.read_bytes() == b.read_bytes()
    inst = load_instrument().select(["M4"])
    raw = redcap.read_responses(read_table(a), inst)
    assert redcap.detect(read_table(a)) is not None
    assert raw.meta["respondent"].tolist() == [str(x) for x in gen.data["respondent_id"]]
    assert raw.meta["finished"].tolist() == gen.respondents["finished"].tolist()


def test_sav_keeps_no_answer_as_user_missing_with_levels_and_formats(tmp_path):
    """-99 ("No answer", user-missing) where a question was asked and not answered; system-missing where it
    was not asked (the cluster module for a firm outside any cluster); measurement levels and integer formats."""
    from dataclasses import replace

    import numpy as np

    gen = generate(world="theory", n=40, seed=5, modules=["M3"])
    data = gen.data.copy()
    data.loc[:4, "firm_cluster_member"] = 0  # five firms outside any cluster: the cluster module was skipped
    g1 = [c for c in data.columns if c.startswith("g1_")]
    data.loc[:4, g1] = np.nan
    path = write_data(replace(gen, data=data), tmp_path / "d.sav")[0]
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    asked = data["firm_cluster_member"] == 1
    for name in g1:
        assert (frame[name] == -99).tolist() == (data[name].isna() & asked).tolist()
        assert frame.loc[:4, name].isna().all()
        assert meta.missing_ranges[name] == [{"lo": -99.0, "hi": -99.0}]
    assert (frame[g1] == -99).to_numpy().any()  # the seed has unanswered cells among the asked
    assert meta.variable_measure["g1_1"] == "ordinal" and meta.variable_measure["firm_sector"] == "nominal"
    assert meta.variable_measure["firm_markets"] == "scale"
    assert meta.original_variable_types["g1_1"] == "F3.0" and meta.original_variable_types["firm_founded"] == "F4.0"
    # read as a statistics package would (user-missing set missing): the answers as generated
    plain, _ = pyreadstat.read_sav(str(path))
    assert plain["g1_2"].isna().tolist() == data["g1_2"].isna().tolist()
