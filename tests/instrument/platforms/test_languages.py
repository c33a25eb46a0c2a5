"""Multi-language questionnaire exports, each checked against its platform's own rules."""

import csv

import pandas as pd
import pytest
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from instrument import load_instrument
from instrument.export import export
from instrument.platforms import limesurvey, qualtrics

ALL = ("en", "fi", "sv", "de")


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def test_xlsform_has_a_label_column_per_language_and_pyxform_accepts_it(inst, tmp_path):
    path = export(inst, "xlsform", tmp_path / "form.xlsx", languages=ALL)[0]
    result = convert(xlsform=str(path))
    assert result.warnings == []
    for name in ("English (en)", "Finnish (fi)", "Swedish (sv)", "German (de)"):
        assert f'lang="{name}"' in result.xform
    wb = load_workbook(path)
    survey = pd.DataFrame(wb["survey"].values)
    survey.columns = survey.iloc[0]
    survey = survey.iloc[1:].set_index("name")
    assert survey.loc["tk_1", "label::Finnish (fi)"] == inst.variable("tk_1").label("fi")
    assert survey.loc["firm_employees", "constraint_message::German (de)"] == \
        "Bitte geben Sie eine ganze Zahl von 1 bis 249 ein."
    # the cluster module is asked of cluster members: its group's relevance, not each question's
    assert survey.loc["g_m3", "relevant"] == "${firm_cluster_member} = 1"
    assert not survey.loc["g1_1", "relevant"] or pd.isna(survey.loc["g1_1", "relevant"])
    assert survey.loc["firm_cluster_org", "relevant"] == "${firm_cluster_member} = 1"
    choices = pd.DataFrame(wb["choices"].values)
    assert "label::Swedish (sv)" in set(choices.iloc[0])
    settings = list(wb["settings"].values)
    assert settings[1][3] == "English (en)"
    # a Finnish-first form: Finnish is the default language
    fi_first = load_workbook(export(inst, "xlsform", tmp_path / "fi.xlsx", languages=["fi", "en"])[0])
    assert list(fi_first["settings"].values)[1][3] == "Finnish (fi)"


def test_limesurvey_additional_languages(inst, tmp_path):
    path = export(inst, "limesurvey", tmp_path / "ls.txt", languages=ALL)[0]
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))
    settings = {r["name"]: r["text"] for r in rows if r["class"] == "S"}
    assert settings["language"] == "en" and settings["additional_languages"] == "fi sv de"
    assert settings["savetimings"] == "Y" and settings["datestamp"] == "Y"  # paradata: page and survey times
    for lang in ALL:
        titles = [r["text"] for r in rows if r["class"] == "SL" and r["name"] == "surveyls_title" and r["language"] == lang]
        assert titles == [inst.questionnaire.title[lang]]
    sq = {r["language"]: r["text"] for r in rows if r["class"] == "SQ" and r["name"] == "cip1"}
    assert sq == {lang: inst.variable("cip_1").label(lang) for lang in ALL}
    groups = [r for r in rows if r["class"] == "G" and r["language"] == "de"]
    relevance = {r["name"]: r["relevance"] for r in groups}
    assert relevance[inst.module("M3").title["de"]] == 'firmclustermember.NAOK == "1"'
    assert sum(bool(v) for v in relevance.values()) == 1
    assert limesurvey.questionnaire_rows(inst) == limesurvey.questionnaire_rows(inst, ("en",))


def test_qualtrics_translation_table(inst, tmp_path):
    txt, table = export(inst, "qualtrics", tmp_path / "q.txt", languages=ALL)
    assert table.name == "q_translations.csv"
    rows = list(csv.reader(table.open(encoding="utf-8")))
    assert rows[0] == ["PhraseID", "ExportTag", "EN", "FI", "SV", "DE"]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["QID1_QuestionText"][1] == "intro"
    # one QuestionText per question of the TXT, in file order
    questions = [r for r in rows[1:] if r[0].endswith("_QuestionText")]
    assert len(questions) == txt.read_text(encoding="utf-8").count("[[Question:")
    tk = next(r for r in questions if r[1] == "tk")
    qid = tk[0].split("_")[0]
    assert by_id[f"{qid}_Choice1"][2:] == [inst.variable("tk_1").label(lang) for lang in ALL]
    assert by_id[f"{qid}_Answer7"][3] == "Erittäin suuressa määrin"
    # the TXT itself is in the base language
    assert "[[ID:tk]]\nIn the last three years" in txt.read_text(encoding="utf-8")
    de_txt = qualtrics.questionnaire_lines(inst, "de")
    assert "Stimme voll und ganz zu" in de_txt


def test_redcap_copies_share_field_and_form_names(inst, tmp_path):
    paths = export(inst, "redcap", tmp_path / "dd.csv", languages=["en", "sv"])
    assert [p.name for p in paths] == ["dd.csv", "dd_sv.csv"]
    en, sv = (pd.read_csv(p, keep_default_na=False) for p in paths)
    for col in ("Variable / Field Name", "Form Name", "Field Type", "Branching Logic (Show field only if...)"):
        assert list(en[col]) == list(sv[col])
    sv = sv.set_index("Variable / Field Name")
    assert sv.loc["lv_2", "Field Label"] == inst.variable("lv_2").label("sv")
    assert sv.loc["g7_3", "Branching Logic (Show field only if...)"] == "[firm_cluster_member] = '1'"
    assert sv.loc["firm_tech", "Choices, Calculations, OR Slider Labels"].startswith("1, Lågteknologi |")
