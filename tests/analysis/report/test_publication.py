"""Publication tables: numbers from independent computations, the Word and LaTeX files read back equal
to the CSVs cell for cell, seeds cited by author and year, reproducible bytes, LaTeX escaping."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from docx import Document

from analysis.propositions.pipeline import analyze
from analysis.report import publication as pubmod
from analysis.report.publication import (
    LONG_TABLE_ROWS,
    PubTable,
    first_order,
    latex_document,
    num,
    publication_tables,
    pval,
    tex_escape,
    to_latex,
    write_publication,
)
from analysis.report.render import write_reports
from instrument import load_instrument
from synthetic_data.generate import generate


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def result():
    return analyze(generate(world="theory", n=400, seed=3, modules=["M4"]).data, n_boot=50, n_jobs=1)


@pytest.fixture(scope="module")
def pub(result, inst):
    return publication_tables(result, inst)


@pytest.fixture(scope="module")
def written(pub, tmp_path_factory):
    out = tmp_path_factory.mktemp("pub")
    return out, write_publication(pub, out)


def test_apa_numbers():
    assert num(0.8512) == "0.85" and num(0.8512, lead=False) == ".85" and num(-0.3, lead=False) == "-.30"
    assert num(-0.001) == "0.00" and num(np.nan) == "" and num(12.345, 1) == "12.3"
    assert pval(0.0004) == "< .001" and pval(0.0234) == ".023" and pval(np.nan) == ""


def test_flow_and_sample_add_up(result, pub):
    flow = pub.table("table1_flow").frame.set_index("Step")
    read, kept = result.options["rows.read"], result.options["rows.kept"]
    assert int(flow.loc["Responses screened", "n"]) == read and int(flow.loc["Analysed", "n"]) == kept
    excluded = flow[flow.index.str.startswith("Excluded")]["n"].astype(int).sum()
    assert excluded == read - kept
    sample = pub.table("table2_sample").frame
    country = sample[sample["Characteristic"] == "Country"]
    counts = result.screening.kept["firm_country"].value_counts()
    assert sorted(country["n"].astype(int)) == sorted(counts.to_numpy())
    for ch, block in sample.groupby("Characteristic"):
        assert block["n"].astype(int).sum() == kept, ch


def test_item_and_measurement_numbers(result, pub):
    items = pub.table("table3_items").frame.set_index("Item")
    x = result.scored.data["cbc_4"].astype(float).dropna()  # reverse-scored by the pipeline
    assert items.loc["cbc_4 (R)", "M"] == f"{x.mean():.2f}" and items.loc["cbc_4 (R)", "SD"] == f"{x.std():.2f}"
    raw = result.screening.kept["cbc_4"].astype(float).dropna()
    assert np.allclose(x.to_numpy(), 8 - raw.to_numpy())
    meas = pub.table("table5_measurement").frame
    p = result.parameters
    lam = p[(p["model"] == "measurement M4") & (p["op"] == "=~") & (p["rhs"] == "dual_2")]["std.all"].iloc[0]
    assert meas.set_index("Item").loc["dual_2", "\u03bb"] == f"{lam:.2f}".replace("0.", ".", 1)
    m = result.measurement.set_index("construct").loc["LOCK"]
    row = meas[meas["Construct"] == "LOCK"].iloc[0]
    for col, key in (("\u03b1", "alpha"), ("\u03c9", "omega"), ("CR", "cr"), ("AVE", "ave")):
        assert row[col] == f"{m[key]:.2f}".lstrip("0"), col
    missing = pub.table("table4_missing").frame.set_index("Construct")
    share = result.scored.data[["gm_1", "gm_2", "gm_3"]].isna().to_numpy().mean()
    assert missing.loc["GM", "Missing answers (%)"] == f"{100 * share:.1f}"


def test_structural_rows_match_the_tests(result, pub):
    table = pub.table("table8_structural").frame
    t = result.tests[(result.tests["hypothesis"] == "H12") & result.tests["decision"].astype(bool)].iloc[0]
    row = table[table["Hypothesis"] == "H12"].iloc[0]
    assert row["Estimate"] == f"{t['estimate']:.2f}"
    assert row["95% CI"] == f"[{t['ci.lower']:.2f}, {t['ci.upper']:.2f}]"
    assert row["Verdict"] == result.verdicts.set_index("hypothesis").loc["H12", "verdict"]


def test_seeds_cited_by_author_and_year(pub, result, inst, tmp_path):
    hyp = pub.table("table9_hypotheses").frame.set_index("Hypothesis")
    assert hyp.loc["H11", "Source"] == "Rilla (2016)" and hyp.loc["H1", "Source"] == "Harris & Fletcher (2012)"
    assert hyp.loc["H1", "Proposition or passage"].startswith("Proposition 1:")
    write_reports(result, inst, tmp_path, pub)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    for text in (html, md):
        assert "Rilla (2016)" in text and "Puthusserry et al. (2020)" in text
        assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt", text)  # no seed file names
    assert "https://doi.org/10.1016/j.ibusrev.2011.07.008" in html
    assert "Harris &amp; Fletcher (2012)" in html  # escaped


def _csv(path) -> list[list[str]]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [list(frame.columns)] + frame.to_numpy().tolist()


def test_docx_cells_equal_the_csvs(pub, written):
    out, _ = written
    doc = Document(str(out / "tables.docx"))
    assert len(doc.tables) == len(pub.tables)
    for t, dt in zip(pub.tables, doc.tables):
        cells = [[c.text for c in row.cells] for row in dt.rows]
        assert cells == _csv(out / f"{t.key}.csv"), t.key
    text = [p.text for p in doc.paragraphs]
    assert "Table 1" in text and pub.tables[0].title in text


_UNTEX = {r"\textless{}": "<", r"\textgreater{}": ">", r"\&": "&", r"\%": "%", r"\_": "_", r"\#": "#",
          r"\$": "$", "$\\chi^2$": "\u03c7\u00b2", "$\\Delta$": "\u0394", "$\\lambda$": "\u03bb",
          "$\\alpha$": "\u03b1", "$\\omega$": "\u03c9", r"\"o": "\u00f6", r"\"a": "\u00e4", "---": "\u2014",
          "--": "\u2013"}


def _tex_cells(lines: str) -> list[list[str]]:
    rows = []
    for line in lines.replace("\\midrule\n", "").strip().split("\n"):
        cells = [c.strip() for c in re.split(r"(?<!\\)&", line.rstrip().removesuffix("\\\\"))]
        for k, v in _UNTEX.items():
            cells = [c.replace(k, v) for c in cells]
        rows.append(cells)
    return rows


def _tex_tables(text: str) -> list[list[list[str]]]:
    """Each table's cells, heading first: from a ``table`` float's tabular (between its rules) or from
    a ``longtable`` (the heading before ``\\endfirsthead``, the rows after ``\\endfoot``)."""
    out = []
    for kind, body in re.findall(r"\\begin\{(table|sidewaystable|longtable)\}(.*?)\\end\{\1\}", text, flags=re.S):
        if kind != "longtable":
            out.append(_tex_cells(re.search(r"\\toprule\n(.*?)\\bottomrule", body, flags=re.S)[1]))
        else:
            head = re.search(r"\\toprule\n(.*?)\\midrule\n\\endfirsthead", body, flags=re.S)[1]
            out.append(_tex_cells(head + body.split("\\endfoot\n", 1)[1]))
    return out


def test_latex_cells_equal_the_csvs(pub, written):
    out, _ = written
    text = (out / "tables.tex").read_text(encoding="utf-8")
    assert sum(text.count(f"\\begin{{{env}}}") for env in ("table", "sidewaystable", "longtable")) == len(pub.tables)
    for t, cells in zip(pub.tables, _tex_tables(text)):
        assert cells == _csv(out / f"{t.key}.csv"), t.key


def test_diagrams_and_reproducible_bytes(pub, written, tmp_path):
    out, paths = written
    names = {p.name for p in paths}
    assert {"diagram_m4.svg", "diagram_m4.pdf", "tables.docx", "tables.tex"} <= names
    assert (out / "diagram_m4.pdf").read_bytes().startswith(b"%PDF")
    again = write_publication(pub, tmp_path)
    for a, b in zip(paths, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_tex_escape():
    assert tex_escape("a_b & 50% < .001 {x} $") == r"a\_b \& 50\% \textless{} .001 \{x\} \$"
    assert tex_escape("\u03c7\u00b2 \u0394CFI Fjellstr\u00f6m") == r'$\chi^2$ $\Delta$CFI Fjellstr\"om'
    assert tex_escape("a\\b") == r"a\textbackslash{}b"


def test_invariance_sequence_when_countries_are_large_enough(result, inst, monkeypatch):
    monkeypatch.setattr(pubmod, "MIN_COUNTRY_FIRMS", 60)
    pub = publication_tables(result, inst)
    inv = pub.table(next(t.key for t in pub.tables if t.key.endswith("invariance"))).frame
    assert list(inv["Level"]) == ["configural", "metric", "scalar"]
    df = inv["df"].astype(int).to_numpy()
    assert (np.diff(df) > 0).all()
    assert (inv["\u0394df"].iloc[1:].astype(int).to_numpy() == np.diff(df)).all()
    monkeypatch.setattr(pubmod, "MIN_COUNTRY_FIRMS", 10_000)
    none = publication_tables(result, inst)
    assert not any(t.key.endswith("invariance") for t in none.tables)
    assert "fewer than two countries" in none.notes[0]


def test_first_order_drops_second_order_factors_only():
    syntax = ("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nC =~ c1 + c2 + c3\n"
              "H =~ A + B   # second order\nC ~~ A\n")
    flat, second = first_order(syntax)
    assert second == ("H",)
    assert flat == "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nC =~ c1 + c2 + c3\nC ~~ A\n"
    assert first_order("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\n") == ("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\n", ())
    # a second-order factor used elsewhere (a regression) keeps the model as it is
    kept = "A =~ a1 + a2\nB =~ b1 + b2\nH =~ A + B\nY =~ y1 + y2 + y3\nY ~ H\n"
    assert first_order(kept) == (kept, ())


def _long_pub() -> tuple[PubTable, PubTable]:
    rows = LONG_TABLE_ROWS + 5
    long = PubTable("table1_long", 1, "Many Rows", pd.DataFrame({
        "Item": [f"x_{k}" for k in range(rows)], "Text": [f"statement {k} " * 6 for k in range(rows)],
        "M": [f"{k / 10:.2f}" for k in range(rows)]}), "A long note with 50% & more.")
    short = PubTable("table2_short", 2, "Few Rows", pd.DataFrame({"Test": ["a -> b", "b -> c"], "p": [".010", "< .001"]}))
    return long, short


def test_latex_long_tables_break_across_pages_with_the_same_cells():
    long, short = _long_pub()
    text = to_latex(long)
    assert "\\begin{longtable}{l>{\\raggedright\\arraybackslash}p{" in text and "\\begin{table}" not in text
    assert text.count("Item & Text & M \\\\") == 2  # heading on the first page and repeated
    assert "\\endfirsthead" in text and "\\endhead" in text and "\\textit{Note.} A long note with 50\\% \\& more." in text
    assert "\\begin{table}[htbp]" in to_latex(short) and "tabularx" not in to_latex(short)
    cells = _tex_tables(text + to_latex(short))
    assert cells[0] == [list(long.frame.columns)] + long.frame.astype(str).map(str.strip).values.tolist()
    assert cells[1] == [list(short.frame.columns)] + short.frame.values.tolist()


def test_latex_wide_text_wraps_in_a_tabularx():
    frame = pd.DataFrame({"Hypothesis": ["H1", "H2"], "Passage": ["word " * 20, "a short one"]})
    text = to_latex(PubTable("t", 1, "Wide", frame))
    assert "\\begin{tabularx}{\\linewidth}{l>{\\raggedright\\arraybackslash}X}" in text
    assert "\\end{tabularx}" in text and "\\begin{tabular}" not in text and "\\begin{table}[htbp]" in text
    many = pd.DataFrame({"Test": ["word " * 10], **{f"Column {k}": ["0.123456"] for k in range(8)}})
    sideways = to_latex(PubTable("t", 1, "Many Columns", many))
    assert sideways.count("\\begin{sidewaystable}") == 1 and sideways.count("\\end{sidewaystable}") == 1


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no pdflatex (TeX Live) on this machine")
def test_latex_document_compiles_without_overfull_tables(tmp_path, pub):
    long, short = _long_pub()
    doc = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs, longtable, array, tabularx, rotating}\n"
           "\\begin{document}\n\\input{tables.tex}\n\\end{document}\n")
    (tmp_path / "tables.tex").write_text(latex_document(pub) + to_latex(long) + to_latex(short), encoding="utf-8")
    (tmp_path / "doc.tex").write_text(doc, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    log = (tmp_path / "doc.log").read_text(encoding="latin-1")
    assert done.returncode == 0, log[-2000:]
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")
    assert "Float too large" not in log
