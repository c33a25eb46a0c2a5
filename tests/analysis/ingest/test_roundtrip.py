"""Round trips: generate (every knob on) -> write in every format -> ingest -> exactly the canonical codebook frame.

For each format of :data:`synthetic_data.writers.DATA_FORMATS` (and each platform's codes / labels export, and the
KoboToolbox / ODK Central variants: XLSX, ``,`` CSV, "no groups", ODK Central CSV) the generated data are
written as the generator (``smesurvey generate --format F``) writes them, ingested with the identifiers kept,
and compared with ``gen.data`` by :func:`pandas.testing.assert_frame_equal` on the codebook columns (codes as
float, missing as NaN): a reader that loses, moves or changes one value fails its case. Every row must be kept
and rows.csv must have exactly one line per data row. A second set of cases inserts wholly empty data lines
into each export: they are excluded "empty row" and everything else still round-trips.

``python -m tests.analysis.ingest.test_roundtrip`` prints the format table (format, detected by, round trip).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.ingest.pipeline import ingest
from instrument import load_instrument
from instrument.platforms import kobo
from synthetic_data.generate import generate
from synthetic_data.knobs import Knobs
from synthetic_data.writers import DATA_FORMATS, SUFFIX, response_meta, write_data

N = 60
SEED = 20261202
#: Every realism knob on, above the defaults, so that 60 rows hold careless responders, straight-liners,
#: attention failures, partial completes and MCAR / MAR missingness.
KNOBS = Knobs(mcar=0.05, mar=0.05, careless=0.1, straightliners=0.05, acquiescence_sd=0.3, attention_fail=0.1,
              partial=0.15, durations=True)


@dataclass(frozen=True)
class Case:
    """One export to round-trip: ``fmt`` as ``generate --format`` takes it, plus the platform's options."""

    name: str
    fmt: str
    labels: bool = False
    kobo_options: dict = field(default_factory=dict)  # kobo.write_responses keywords (layout, sep, ...)
    suffix: str | None = None

    @property
    def file_name(self) -> str:
        return self.name + (self.suffix or SUFFIX[self.fmt])


CASES = [
    Case("csv", "csv"), Case("xlsx", "xlsx"), Case("sav", "sav"), Case("dta", "dta"),
    Case("qualtrics-codes", "qualtrics"), Case("qualtrics-labels", "qualtrics", labels=True),
    Case("limesurvey-codes", "limesurvey"), Case("limesurvey-labels", "limesurvey", labels=True),
    Case("kobo-names", "kobo"), Case("kobo-labels", "kobo", labels=True),
    Case("kobo-comma-names", "kobo", kobo_options={"sep": ","}),
    Case("kobo-comma-labels", "kobo", labels=True, kobo_options={"sep": ","}),
    Case("kobo-nogroups-names", "kobo", kobo_options={"group_separator": ""}),
    Case("kobo-nogroups-labels", "kobo", labels=True, kobo_options={"group_separator": ""}),
    Case("kobo-dashgroups-names", "kobo", kobo_options={"group_separator": "-"}),
    Case("kobo-xlsx-names", "kobo", suffix=".xlsx"), Case("kobo-xlsx-labels", "kobo", labels=True, suffix=".xlsx"),
    Case("odk-central-names", "kobo", kobo_options={"layout": "odk_central"}),
    Case("redcap-raw", "redcap"), Case("redcap-labels", "redcap", labels=True),
]
#: ingest's format name per generator format.
INGEST_FORMAT = {f: f for f in DATA_FORMATS}
#: Formats whose export carries the response duration. REDCap's records export has form completion
#: timestamps and our dictionary's hidden @NOW start field: the duration of respondents who completed.
HAS_DURATION = {"csv", "xlsx", "sav", "dta", "qualtrics", "limesurvey", "kobo", "redcap"}
#: Formats whose duration exists only for finished respondents.
DURATION_IF_FINISHED = {"redcap"}


def test_cases_cover_every_generator_format():
    assert {c.fmt for c in CASES} == set(DATA_FORMATS)
    for fmt in ("qualtrics", "limesurvey", "kobo", "redcap"):  # codes and labels of every platform
        assert {c.labels for c in CASES if c.fmt == fmt} == {False, True}


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def gen(inst):
    g = generate(n=N, seed=SEED, knobs=KNOBS, instrument=inst)
    types = set(g.respondents["type"])
    assert types == {"attentive", "careless", "straightliner"}, types  # the knobs did act
    assert (~g.respondents["finished"]).sum() >= 3 and g.data.isna().to_numpy().sum() > 100
    return g


def write_case(case: Case, gen, inst, folder: Path) -> Path:
    """The export as the generator writes it (write_data; Kobo variants through kobo.write_responses)."""
    path = folder / case.file_name
    if case.fmt == "kobo" and (case.kobo_options or case.suffix):
        kobo.write_responses(gen.data, response_meta(gen), inst.select(gen.sidecar["modules"]), path,
                             labels=case.labels, **case.kobo_options)
    else:
        write_data(gen, path, case.fmt, instrument=inst, labels=case.labels)
    return path


def _normalise(frame: pd.DataFrame, inst) -> pd.DataFrame:
    """Codebook columns as the comparison takes them: numbers as float (NaN missing), text as object (NaN)."""
    out = {}
    for c in frame.columns:
        kind = inst.variable(c).type if c not in ("respondent_id",) else "text"
        col = frame[c]
        if kind == "text":
            out[c] = pd.Series([np.nan if pd.isna(x) else str(x) for x in col], dtype=object)
        else:
            out[c] = pd.Series(pd.to_numeric(col, errors="raise").to_numpy(dtype=float))
    return pd.DataFrame(out)


def expected_frame(gen, inst, case: Case) -> pd.DataFrame:
    cols = [c for c in gen.data.columns if c != "duration_sec" or case.fmt in HAS_DURATION]
    exp = _normalise(gen.data[cols].reset_index(drop=True), inst)
    if case.fmt in DURATION_IF_FINISHED:
        exp["duration_sec"] = exp["duration_sec"].where(gen.respondents["finished"].to_numpy(dtype=bool))
    return exp


def assert_round_trip(res, gen, inst, case: Case, n_rows: int) -> None:
    exp = expected_frame(gen, inst, case)
    codebook = {v.name for v in inst.variables()}
    got = res.responses[[c for c in res.responses.columns if c in codebook]]
    # keep_identifiers adds the platform's (empty) identifier columns after the codebook's
    assert list(got.columns) == list(exp.columns), set(got.columns) ^ set(exp.columns)
    pd.testing.assert_frame_equal(_normalise(got, inst), exp, check_exact=True)
    assert len(res.rows) == n_rows and res.provenance["rows_read"] == n_rows
    assert res.provenance["format"] == INGEST_FORMAT[case.fmt]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_round_trip_returns_the_codebook_frame(case, gen, inst, tmp_path):
    path = write_case(case, gen, inst, tmp_path)
    before = path.read_bytes()
    res = ingest(path, tmp_path / "out", keep_identifiers=True, instrument=inst)
    assert path.read_bytes() == before  # the input is never modified
    assert_round_trip(res, gen, inst, case, N)
    assert (res.rows["status"] == "kept").all(), res.rows[res.rows["status"] != "kept"]
    assert res.rows["source_row"].tolist() == list(range(1, N + 1))
    rows_csv = (tmp_path / "out" / "rows.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows_csv) == 1 + N  # header + one line per data row
    reasons = set(res.cells["reason"])
    # nothing else was changed; the generator's .sav keeps -99 ("No answer", SPSS user-missing) in every
    # unanswered question, which ingest sets missing and logs, cell by cell
    assert reasons <= {"label recoded"} | ({"platform missing code"} if case.fmt == "sav" else set()), reasons
    if case.fmt == "sav":
        numeric = [v.name for v in inst.variables(paradata=False) if v.type != "text" and v.name in gen.data]
        assert (res.cells["reason"] == "platform missing code").sum() == int(gen.data[numeric].isna().to_numpy().sum())
    if case.labels:  # every answer on a scale came as its label and was recoded
        scaled = [v.name for v in inst.variables(paradata=False) if v.scale]
        assert (res.cells["reason"] == "label recoded").sum() == int(gen.data[scaled].notna().to_numpy().sum())
    assert res.provenance["details"].get("values", "codes") == ("labels" if case.labels else "codes")


@pytest.mark.parametrize("case", [CASES[0], CASES[5], CASES[9], CASES[17]], ids=lambda c: c.name)
def test_round_trip_pseudonymised_with_a_key(case, gen, inst, tmp_path):
    key = tmp_path / "key"
    key.write_text("0123456789abcdef0123456789abcdef", encoding="utf-8")
    path = write_case(case, gen, inst, tmp_path)
    res = ingest(path, key=key, instrument=inst)
    exp = expected_frame(gen, inst, case)
    got = _normalise(res.responses, inst)
    pd.testing.assert_frame_equal(got.drop(columns="respondent_id"), exp.drop(columns="respondent_id"),
                                  check_exact=True)
    assert not set(got["respondent_id"]) & set(exp["respondent_id"])
    assert got["respondent_id"].is_unique and got["respondent_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    again = ingest(path, key=key, instrument=inst)  # the same key gives the same pseudonyms
    assert again.responses["respondent_id"].tolist() == res.responses["respondent_id"].tolist()


def test_a_changed_value_fails_the_comparison(gen, inst, tmp_path):
    """The comparison is sharp: one answer changed in the export is caught."""
    case = CASES[4]  # qualtrics-codes
    path = write_case(case, gen, inst, tmp_path)
    lines = path.read_text(encoding="utf-8").split("\n")
    row = next(csv.reader([lines[3]]))
    k = lines[0].split(",").index("tk_1")
    row[k] = "1" if row[k] != "1" else "2"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    lines[3] = buf.getvalue()
    path.write_text("\n".join(lines), encoding="utf-8")
    res = ingest(path, keep_identifiers=True, instrument=inst)
    with pytest.raises(AssertionError, match="tk_1"):
        assert_round_trip(res, gen, inst, case, N)


# -- wholly empty data lines -------------------------------------------------------------------------------------
#: File lines before the first data row, per layout (Qualtrics: three header rows).
HEADER_LINES = {"qualtrics": 3}
AFTER = 10  # the empty lines go after this data row


def _insert_empty_rows(path: Path, case: Case) -> None:
    """An empty line and a line of only delimiters after data row :data:`AFTER` (XLSX: two empty sheet rows)."""
    if path.suffix == ".xlsx":
        wb = load_workbook(path)
        ws = wb.worksheets[0]
        ws.insert_rows(1 + AFTER + 1, amount=2)
        wb.save(path)
        return
    lines = path.read_text(encoding="utf-8").split("\n")
    sep = ";" if case.fmt == "kobo" and case.kobo_options.get("sep", ";") == ";" and \
        case.kobo_options.get("layout") != "odk_central" else ","
    width = len(next(csv.reader([lines[0]], delimiter=sep)))
    at = HEADER_LINES.get(case.fmt, 1) + AFTER
    lines[at:at] = ["", sep * (width - 1)]
    path.write_text("\n".join(lines), encoding="utf-8")


EMPTY_CASES = [c for c in CASES if c.fmt not in ("sav", "dta")]  # binary stat files have no empty lines


@pytest.mark.parametrize("case", EMPTY_CASES, ids=lambda c: c.name)
def test_empty_data_lines_are_logged_rows(case, gen, inst, tmp_path):
    path = write_case(case, gen, inst, tmp_path)
    _insert_empty_rows(path, case)
    res = ingest(path, tmp_path / "out", keep_identifiers=True, instrument=inst)
    assert_round_trip(res, gen, inst, case, N + 2)
    rows = pd.read_csv(tmp_path / "out" / "rows.csv", dtype=str, keep_default_na=False)
    assert len(rows) == N + 2 and rows["source_row"].tolist() == [str(i) for i in range(1, N + 3)]
    excluded = rows[rows["status"] == "excluded"]
    assert excluded["source_row"].tolist() == [str(AFTER + 1), str(AFTER + 2)]
    assert excluded["reasons"].tolist() == ["empty row", "empty row"]
    assert (rows["status"] == "kept").sum() + len(excluded) == N + 2


def format_table(folder: Path) -> str:
    """Markdown table: format, detected by, round trip ok - one line per case of :data:`CASES`."""
    inst = load_instrument()
    g = generate(n=N, seed=SEED, knobs=KNOBS, instrument=inst)
    lines = ["| format | detected by | round trip ok |", "|---|---|---|"]
    for case in CASES:
        path = write_case(case, g, inst, folder)
        res = ingest(path, keep_identifiers=True, instrument=inst)
        try:
            assert_round_trip(res, g, inst, case, N)
            ok = "yes" + ("" if case.fmt in HAS_DURATION else " (no duration in the export)") + \
                (" (duration of finished respondents)" if case.fmt in DURATION_IF_FINISHED else "")
        except AssertionError as exc:
            ok = f"NO: {str(exc).splitlines()[0][:80]}"
        lines.append(f"| {case.name} | {res.provenance['detected_by']} | {ok} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - prints the table for the issue note
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(format_table(Path(tmp)))
