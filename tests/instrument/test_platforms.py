"""Platform layouts: the names the questionnaire exports use are the ones the response exports use."""

from __future__ import annotations

import pandas as pd

from instrument import load_instrument
from instrument.platforms import (
    KOBO_META,
    LIMESURVEY_META,
    QUALTRICS_META,
    kobo_column,
    limesurvey,
    limesurvey_code,
    limesurvey_column,
    plain,
    qualtrics,
    redcap,
)
from instrument.platforms import kobo as kobo_module
from instrument.platforms.tables import read_table
from synthetic_data.generate import generate
from synthetic_data.writers import write_data


def test_limesurvey_codes_and_array_columns():
    inst = load_instrument()
    assert limesurvey_code("ksm_vn_tk") == "ksmvntk"
    assert limesurvey_column(inst, "tk_1") == "TK[tk1]"  # an item of the TK grid


def test_generated_platform_files_carry_the_declared_bookkeeping_columns(tmp_path):
    inst = load_instrument().select(["M4"])
    gen = generate(world="theory", n=20, seed=2, modules=["M4"])
    q, lime, kobo = tmp_path / "q.csv", tmp_path / "l.csv", tmp_path / "k.csv"
    write_data(gen, q, "qualtrics")
    write_data(gen, lime, "limesurvey")
    write_data(gen, kobo, "kobo")
    assert tuple(pd.read_csv(q, nrows=0).columns[:len(QUALTRICS_META)]) == QUALTRICS_META
    assert tuple(pd.read_csv(lime, nrows=0).columns[:len(LIMESURVEY_META)]) == LIMESURVEY_META
    kcols = list(pd.read_csv(kobo, sep=";", nrows=0).columns)
    assert tuple(kcols[-len(KOBO_META):]) == KOBO_META
    section = next(s for s in inst.sections() if any(v.name == "cbc_1" for b in s.blocks for v in b.variables))
    assert kobo_column(section, "cbc_1") in kcols
    platforms = {"qualtrics": qualtrics, "limesurvey": limesurvey, "kobo": kobo_module, "redcap": redcap}
    for path, name in ((q, "qualtrics"), (lime, "limesurvey"), (kobo, "kobo")):
        table = read_table(path)
        assert [n for n, m in platforms.items() if m.detect(table) is not None] == [name]
    path = tmp_path / "plain.csv"
    path.write_text("respondent_id,tk_1,tk_2\nr1,3,4\n", encoding="utf-8")
    table = read_table(path)
    assert all(m.detect(table) is None for m in platforms.values()) and plain.detect(table) is not None
