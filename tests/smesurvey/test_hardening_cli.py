"""Every command checks its options and output location before any work: one line, exit 2, nothing
written, inputs untouched; no command overwrites another command's outputs without --force."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from smesurvey.cli import main
from tests.analysis.conftest import REFERENCE
from tests.conftest import THEORY_600

HS = REFERENCE / "HolzingerSwineford1939.csv"


def _digest(folder) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def fit_outputs(tmp_path):
    model = tmp_path / "m.lav"
    model.write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    out = tmp_path / "fitted"
    assert main(["fit", str(model), str(HS), "--out", str(out), "--quiet"]) == 0
    return out


CASES = {
    "analyze --bootstrap -1": (["analyze", str(THEORY_600), "--out", "{tmp}/a", "--bootstrap", "-1"],
                               r"--bootstrap.*greater than or equal to 2"),
    "analyze --bootstrap 1": (["analyze", str(THEORY_600), "--out", "{tmp}/a", "--bootstrap", "1"],
                              r"--bootstrap"),
    "analyze --jobs 0": (["analyze", str(THEORY_600), "--out", "{tmp}/a", "--jobs", "0"], r"--jobs: 0 workers"),
    "analyze --out is a file": (["analyze", str(THEORY_600), "--out", "{tmp}/file.txt"], r"is a file, not a folder"),
    "analyze into fit outputs": (["analyze", str(THEORY_600), "--out", "{fit}"],
                                 r"holds the outputs of `smesurvey fit` \(provenance.json\).*--force"),
    "ingest into fit outputs": (["ingest", str(THEORY_600), "--out", "{fit}"], r"holds the outputs of `smesurvey fit`"),
    "fit into ingest outputs": (["fit", "{tmp}/m.lav", str(HS), "--out", "{ingested}"],
                                r"holds the outputs of `smesurvey ingest`"),
    "generate --out is a folder": (["generate", "--n", "5", "--out", "{tmp}"], r"is a folder; give a file name"),
    "generate unknown option": (["generate", "--n", "5", "--out", "{tmp}/g.csv", "--colour"], r"No such option"),
    "instrument export --out is a folder": (["instrument", "export", "--format", "markdown", "--out", "{tmp}"],
                                            r"is a folder; give a file name"),
    "export-r --out is a file": (["export-r", "--out", "{tmp}/file.txt"], r"is a file, not a folder"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_before_any_work(name, tmp_path, fit_outputs, capsys):
    (tmp_path / "file.txt").write_text("keep me", encoding="utf-8")
    (tmp_path / "m.lav").write_text("f =~ x1 + x2 + x3\n", encoding="utf-8")
    ingested = tmp_path / "ingested"
    ingested.mkdir()
    (ingested / "provenance.json").write_text(json.dumps({"input": "x.csv", "rows_read": 3}), encoding="utf-8")
    args, pattern = CASES[name]
    args = [a.format(tmp=tmp_path, fit=fit_outputs, ingested=ingested) for a in args]
    capsys.readouterr()
    before = _digest(tmp_path)
    rc = main(args)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and "Traceback" not in err
    assert len(lines) == 1 and re.search(pattern, lines[0]), lines
    assert _digest(tmp_path) == before  # nothing written, nothing changed
    assert not (tmp_path / "a").exists()


def test_force_lets_fit_overwrite(tmp_path, fit_outputs, capsys):
    model = tmp_path / "m.lav"
    model.write_text("f =~ x4 + x5 + x6\n", encoding="utf-8")
    prov = fit_outputs / "provenance.json"
    prov.write_text(json.dumps({"command": "smesurvey analyze"}), encoding="utf-8")
    assert main(["fit", str(model), str(HS), "--out", str(fit_outputs), "--quiet"]) == 2
    assert main(["fit", str(model), str(HS), "--out", str(fit_outputs), "--quiet", "--force"]) == 0
    assert json.loads(prov.read_text(encoding="utf-8"))["command"] == "smesurvey fit"
