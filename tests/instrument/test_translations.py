"""Languages: every declared language covers every respondent-facing string, and the checks catch what is not."""

import pytest

from instrument import load_instrument
from instrument.export import export
from instrument.translations import coverage, language_problems, parse_languages, strings
from smecore.errors import OptionError

LANGS = [{"code": "en", "name": "English", "native": "English", "status": "source"},
         {"code": "fi", "name": "Finnish", "native": "Suomi", "status": "draft"}]


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def test_packaged_languages_are_complete_drafts(inst):
    cov = coverage(inst).set_index("language")
    assert list(cov.index) == ["en", "fi", "sv", "de"]
    assert cov["complete"].all() and (cov["missing"] == 0).all()
    assert list(cov["status"]) == ["source", "draft", "draft", "draft"]
    assert all("back-translation" in inst.language(c).note for c in ("fi", "sv", "de"))
    # every item, instruction, answer option and section title is counted
    kinds = {s.kind for s in strings(inst)}
    assert {"item", "instruction", "answer option", "section title", "question", "matrix row", "interface"} <= kinds
    assert sum(s.kind == "item" for s in strings(inst)) == 138


def test_translations_differ_from_english(inst):
    """A translation copied from English would pass the coverage check; few strings may legitimately agree
    (names such as "Finland" in Swedish, "Elektronik")."""
    for lang in ("fi", "sv", "de"):
        same = [s.key for s in strings(inst) if s.text[lang] == s.text["en"] and s.kind != "interface"]
        assert len(same) <= 3, (lang, same)


def test_attention_checks_quote_the_expected_answer_in_every_language(inst):
    for a in inst.questionnaire.attention_checks:
        expected = next(p for p in inst.scales[a.scale].points if p.value == a.expected)
        for lang in inst.languages:
            assert expected.label[lang] in a.text[lang], (a.id, lang)


def test_missing_string_is_reported_and_export_refused(tiny, tmp_path):
    tiny.questionnaire["languages"] = LANGS
    tiny.constructs["aa"]["items"][0]["text"]["fi"] = "Ensimmäinen väite"
    inst = load_instrument(tiny.write())
    cov = coverage(inst).set_index("language")
    assert not cov.loc["fi", "complete"] and cov.loc["fi", "translated"] == 1
    assert "item aa_2" in language_problems(inst, "fi")["missing"]
    with pytest.raises(OptionError, match=r"language 'fi' is not complete.*item aa_1|language 'fi' is not complete"):
        export(inst, "respondent", tmp_path / "r.html", languages=["fi"])
    # the back-translation sheet is for incomplete languages too; English exports still work
    assert export(inst, "backtranslation", tmp_path / "bt.xlsx", languages=["fi"])[0].exists()
    assert export(inst, "respondent", tmp_path / "r_en.html")[0].exists()


def test_placeholder_and_duplicate_label_problems(tiny):
    tiny.questionnaire["languages"] = LANGS
    tiny.questionnaire["respondent"] = {"section": {"en": "Section {number}", "fi": "Osa {numero}"}}
    tiny.scales["scales"]["agree"]["points"][0]["label"]["fi"] = "Ei"
    tiny.scales["scales"]["agree"]["points"][1]["label"]["fi"] = "ei"
    probs = language_problems(load_instrument(tiny.write()), "fi")
    assert any(p.startswith("respondent view: section: has {numero}, English {number}") for p in probs["placeholders"])
    assert probs["duplicate_labels"] == ["scale agree: ei"]


def test_parse_languages(inst):
    assert parse_languages(inst, None) == ("en",)
    assert parse_languages(inst, "all") == ("en", "fi", "sv", "de")
    assert parse_languages(inst, "fi, en,fi") == ("fi", "en")
    with pytest.raises(OptionError, match="language 'xx' is not declared"):
        parse_languages(inst, "en,xx")


def test_answer_labels_name_one_code_across_languages(inst):
    """Ingest reads labelled exports in any declared language (analysis.ingest.recode): a label may not name
    two codes of one scale in different languages."""
    for sid, scale in inst.scales.items():
        seen: dict[str, int] = {}
        for p in scale.points:
            for text in p.label.values():
                key = " ".join(text.split()).casefold()
                assert seen.setdefault(key, p.value) == p.value, (sid, text)


def test_exports_state_the_translation_status(inst, tmp_path):
    """A draft translation says so wherever it is read: the researcher's preview, the respondent view."""
    preview = export(inst, "html", tmp_path / "p.html", languages=["en", "de"])
    assert "translation, status" not in preview[0].read_text(encoding="utf-8")
    assert "German translation, status draft (needs review and back-translation" in preview[1].read_text(encoding="utf-8")
    respondent = export(inst, "respondent", tmp_path / "r.html", languages=["de"])[0].read_text(encoding="utf-8")
    assert '<meta name="translation-status" content="de: draft">' in respondent
    assert "to be reviewed and back-translated before fielding" in respondent
