from pyxform.xls2xform import convert

from smesurvey.cli import main


def test_export_xlsform_gives_a_form_pyxform_accepts(tmp_path):
    out = tmp_path / "x.xlsx"
    assert main(["instrument", "export", "--format", "xlsform", "--out", str(out)]) == 0
    assert convert(xlsform=str(out)).warnings == []


def test_export_modules_and_info(tmp_path, capsys):
    out = tmp_path / "m.lav"
    assert main(["instrument", "export", "--format", "lavaan", "--out", str(out), "--modules", "M5"]) == 0
    assert "SIR =~ ANT + COP + ADA" in out.read_text()
    assert main(["instrument", "info"]) == 0
    assert "total" in capsys.readouterr().out


def test_bad_format_and_bad_definition_exit_2(tmp_path, capsys):
    assert main(["instrument", "export", "--format", "pdf", "--out", str(tmp_path / "x")]) == 2
    assert "choose one of" in capsys.readouterr().err
    (tmp_path / "def").mkdir()
    assert main(["instrument", "validate", str(tmp_path / "def")]) == 2
    err = capsys.readouterr().err
    assert "scales.yaml: file is missing" in err and "Traceback" not in err


def test_demo_writes_every_export(tmp_path):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    names = {p.name for p in (tmp_path / "instrument").iterdir()}
    assert (tmp_path / "data" / "theory_n600_seed20261123.csv").exists()
    assert {"questionnaire.html", "codebook.csv", "codebook.sav", "xlsform.xlsx", "measurement_model.lav"} <= names
