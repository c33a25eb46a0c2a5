"""``smesurvey analyze RAW``: a platform export is ingested first, its outputs land beside the analysis'."""

from __future__ import annotations

import csv
import hashlib
import json

import pandas as pd
import pytest

from analysis.ingest.detect import is_codebook_csv
from instrument import load_instrument
from smesurvey.cli import main

INGEST_FILES = ("rows.csv", "ingest_cells.csv", "ingest_provenance.json", "quality.html", "quality.md")


@pytest.fixture(scope="module")
def qualtrics_run(tmp_path_factory):
    """`generate --format qualtrics` (M4, N = 300) then `analyze` on the export, through the CLI."""
    folder = tmp_path_factory.mktemp("raw")
    raw = folder / "export.csv"
    key = folder / "key"
    key.write_text("0123456789abcdef0123456789abcdef")
    assert main(["generate", "--format", "qualtrics", "--n", "300", "--seed", "2", "--modules", "M4",
                 "--out", str(raw)]) == 0
    with raw.open(newline="", encoding="utf-8") as fh:  # plant identifiers (the generator leaves them empty)
        lines = list(csv.reader(fh))
    ip, mail = lines[0].index("IPAddress"), lines[0].index("RecipientEmail")
    for k, line in enumerate(lines[3:], start=1):
        line[ip], line[mail] = f"10.9.{k // 250}.{k % 250}", f"manager{k:04d}@firm-example.org"
    with raw.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(lines)
    before = raw.read_bytes()
    out = folder / "out"
    rc = main(["analyze", str(raw), "--out", str(out), "--bootstrap", "20", "--jobs", "1", "--key-file", str(key)])
    assert rc == 0
    assert raw.read_bytes() == before  # the input is never modified
    return raw, out


def test_the_export_is_not_codebook_layout(qualtrics_run):
    raw, _ = qualtrics_run
    assert not is_codebook_csv(raw, load_instrument())


def test_ingest_outputs_beside_the_analysis(qualtrics_run):
    _, out = qualtrics_run
    for name in (*INGEST_FILES, "verdicts.csv", "cells.csv", "provenance.json", "report.html", "report.md"):
        assert (out / name).stat().st_size > 0, name
    rows = pd.read_csv(out / "rows.csv")
    assert len(rows) == 300 and set(rows["status"]) <= {"kept", "excluded"}
    assert list(pd.read_csv(out / "verdicts.csv")["hypothesis"]) == ["H11", "H12", "H13"]


def test_provenance_records_the_ingest(qualtrics_run):
    raw, out = qualtrics_run
    prov = json.loads((out / "provenance.json").read_text())
    ing = prov["ingest"]
    assert ing["format"] == "qualtrics" and "ResponseId" in ing["detected_by"]
    assert ing["input_sha256"] == hashlib.sha256(raw.read_bytes()).hexdigest() == prov["input_sha256"]
    assert ing["rows_read"] == 300 and ing["quality_report"] == "quality.html"
    assert prov["rows.read"] == ing["rows_kept"]  # the analysis reads the rows ingest kept
    assert "IPAddress" in ing["dropped_identifier_columns"]


def test_reports_link_to_the_quality_report(qualtrics_run):
    _, out = qualtrics_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<a href="quality.html">data-quality report</a>' in html
    assert "Ingested first from a qualtrics export" in html
    assert "[quality.html](quality.html)" in (out / "report.md").read_text(encoding="utf-8")
    quality = (out / "quality.html").read_text(encoding="utf-8")
    assert '<td class="num" id="rows-read">300</td>' in quality


def test_no_identifier_reaches_the_outputs(qualtrics_run):
    raw, out = qualtrics_run
    head = pd.read_csv(raw, skiprows=[1, 2], dtype=str)
    planted = head["RecipientEmail"].tolist() + head["IPAddress"].tolist() + head["ExternalReference"].tolist()
    assert len(planted) == 900 and all(isinstance(x, str) and x for x in planted)
    def content(p):  # the Word file is a zip: its XML parts
        if p.suffix == ".docx":
            import zipfile
            with zipfile.ZipFile(p) as z:
                return b"".join(z.read(n) for n in z.namelist())
        return p.read_bytes()

    files = [p for p in sorted(out.rglob("*")) if p.is_file()]
    assert any(p.parent.name == "publication" for p in files)
    blob = b"".join(content(p) for p in files)
    assert not [x for x in planted if x.encode() in blob]


def test_codebook_csv_is_read_as_before(tmp_path, capsys):
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    data = tmp_path / "plain.csv"
    write_data(generate(world="theory", n=20, seed=2, modules=["M4"]), data)
    assert is_codebook_csv(data, load_instrument())
    semicolon = tmp_path / "semicolon.csv"
    semicolon.write_text(pd.read_csv(data).to_csv(index=False, sep=";"))
    assert not is_codebook_csv(semicolon, load_instrument())  # only ingest reads it


@pytest.fixture(scope="module")
def paged_run(tmp_path_factory):
    """`generate --format limesurvey --knob page_durations=1` (M4, N = 200, 15% careless), then `ingest`
    and `analyze` on the same export."""
    folder = tmp_path_factory.mktemp("paged")
    raw = folder / "lime.csv"
    key = folder / "key"
    key.write_text("0123456789abcdef0123456789abcdef")
    assert main(["generate", "--format", "limesurvey", "--n", "200", "--seed", "4", "--modules", "M4",
                 "--knob", "page_durations=1", "--knob", "careless=0.15", "--out", str(raw)]) == 0
    assert main(["ingest", str(raw), "--out", str(folder / "ingested"), "--key-file", str(key)]) == 0
    out = folder / "out"
    assert main(["analyze", str(raw), "--out", str(out), "--bootstrap", "20", "--jobs", "1",
                 "--key-file", str(key)]) == 0
    return folder / "ingested", out


def test_analyze_and_ingest_agree_on_page_times(paged_run):
    ingested, out = paged_run
    assert (out / "pages.csv").read_bytes() == (ingested / "pages.csv").read_bytes()
    pages = pd.read_csv(out / "pages.csv")
    assert list(pages.columns) == ["respondent_id", "M0", "M4", "M0_MKR"] and len(pages) == 200
    excluded = pd.read_csv(out / "excluded.csv")
    flagged = excluded[excluded["rule"] == "page_speeder"]
    assert len(flagged) > 0 and not flagged["excluded"].any()
    # the quality report written by `ingest` counts the same page speeders as analyze's screening
    md = (ingested / "quality.md").read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if line.startswith("| page_speeder |"))
    assert row.rstrip(" |").split("|")[-1].strip() == str(len(flagged))
    prov = json.loads((out / "provenance.json").read_text())
    assert set(prov["ingest"]["page_timers"]["columns"]) == {"M0", "M4", "M0_MKR"}
