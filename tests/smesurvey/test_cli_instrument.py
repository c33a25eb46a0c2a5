import shutil

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
    for suffix in (".csv", ".sav", ".dta"):
        assert (tmp_path / "data" / f"theory_n600_seed20261123{suffix}").exists()
    assert {"questionnaire.html", "codebook.csv", "codebook.sav", "codebook.dta", "xlsform.xlsx",
            "measurement_model.lav", "backtranslation.xlsx", "respondent_questionnaire.html",
            "respondent_questionnaire_fi.html"} <= names
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        assert {"respondent_questionnaire.pdf", "respondent_questionnaire_fi.pdf"} <= names
    pilot = {p.name for p in (tmp_path / "pilot").iterdir()}
    assert {"theory_n80_seed3.csv", "pilot.html", "pilot_cuts.csv", "thresholds.yaml"} <= pilot
    publication = {p.name for p in (tmp_path / "analysis" / "publication").iterdir()}
    assert {"tables.docx", "tables.tex", "table1_flow.csv", "table2_sample.csv"} <= publication
    assert any(n.endswith("_invariance.csv") for n in publication)  # N = 600: two countries have 100 firms
    if shutil.which("dot"):
        assert {"diagram_m1.svg", "diagram_m1.pdf", "diagram_m5.pdf"} <= publication


def test_export_language_and_languages_command(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["instrument", "export", "--format", "respondent", "--language", "sv", "--out", str(out)]) == 0
    assert 'lang="sv"' in out.read_text(encoding="utf-8") and "Del 1" in out.read_text(encoding="utf-8")
    assert main(["instrument", "export", "--format", "xlsform", "--language", "all", "--out", str(tmp_path / "f.xlsx")]) == 0
    assert convert(xlsform=str(tmp_path / "f.xlsx")).warnings == []
    capsys.readouterr()
    assert main(["instrument", "languages"]) == 0
    table = capsys.readouterr().out
    assert "Finnish" in table and "draft" in table and "274" in table
    assert main(["instrument", "export", "--format", "html", "--language", "pl", "--out", str(tmp_path / "p.html")]) == 2
    assert "language 'pl' is not declared" in capsys.readouterr().err


def test_validate_reports_and_can_require_complete_languages(tmp_path, capsys):
    from tests.instrument.conftest import TinyDefinition

    tiny = TinyDefinition(tmp_path / "definition")
    tiny.questionnaire["languages"] = [{"code": "en", "name": "English", "native": "English", "status": "source"},
                                       {"code": "de", "name": "German", "native": "Deutsch", "status": "draft"}]
    root = tiny.write()
    assert main(["instrument", "validate", str(root)]) == 0
    out = capsys.readouterr().out
    assert "ok:" in out and "German" in out
    assert main(["instrument", "validate", str(root), "--complete-languages"]) == 2
    assert "language 'de' is not complete" in capsys.readouterr().err
    assert main(["instrument", "languages", str(root), "--show", "2"]) == 0
    out = capsys.readouterr().out
    assert "missing: questionnaire: title" in out and "more" in out
