"""The respondent view: no researcher's labels, numbered questions, scale anchors, skip instructions; the PDF."""

import re
import shutil

import pytest

from instrument import load_instrument
from instrument.export import export
from instrument.export.respondent import MAX_GRID_ROWS, context, render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def visible_text(html: str) -> str:
    body = html.split("<body>", 1)[1]
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.parametrize("lang", ["en", "fi", "sv", "de"])
def test_no_variable_name_construct_or_researcher_label_leaks(inst, lang):
    html = render(inst, lang)
    assert f'<html lang="{lang}">' in html
    for v in inst.variables():
        assert v.name not in html, v.name
    text = visible_text(html)
    for c in inst.constructs.values():
        assert c.name["en"] not in text, c.id
        assert not re.search(rf"\b{c.id}\b", text), c.id
    assert "(R)" not in text and "Check" not in text
    for so in inst.questionnaire.second_order:
        assert so.name["en"] not in text


def test_every_item_and_anchor_is_shown_in_the_language(inst):
    html = render(inst, "de")
    for v in inst.variables(paradata=False):
        assert v.label("de").replace("&", "&amp;") in html, v.name
    for p in inst.scales["agree7"].points:
        assert p.label["de"] in html
    assert "Teil 1" in html and "Ende des Fragebogens" in html


def test_questions_are_numbered_and_grids_lettered(inst):
    c = context(inst, "en")
    numbers = [q["number"] for s in c["sections"] for q in s["questions"]]
    assert [int(n) for n in numbers] == list(range(1, len(numbers) + 1))
    grids = [q for s in c["sections"] for q in s["questions"] if q["kind"] == "grid"]
    # merged grids stay short; only the source x content matrix (18 cells, one block) is longer
    assert [len(q["rows"]) for q in grids if len(q["rows"]) > MAX_GRID_ROWS + 1] == [18]
    assert [r["letter"] for r in grids[0]["rows"]][:3] == ["a", "b", "c"]
    # TK, MK and IK share a stem: one grid of 12 statements under it
    assert grids[0]["instruction"].startswith("In the last three years, to what extent") and len(grids[0]["rows"]) == 12
    # a construct without a stem gets its scale's instruction
    assert any(q["instruction"] == inst.scales["agree7"].instruction["en"] for q in grids)
    # the attention check sits inside a grid of the same scale in the last module, not on its own
    last = c["sections"][-2]["questions"][-1]
    assert last["kind"] == "grid" and inst.questionnaire.attention_checks[1].text["en"] in [r["text"] for r in last["rows"]]


def test_skip_instructions_follow_the_conditions(inst):
    c = context(inst, "en")
    profile = {q["text"]: q for q in c["sections"][0]["questions"]}
    member = profile[inst.variable("firm_cluster_member").label()]
    org = profile[inst.variable("firm_cluster_org").label()]
    jumps = {ch["label"]: ch["jump"] for ch in member["choices"]}
    assert jumps == {"No": f"go to question {int(org['number']) + 1}", "Yes": ""}
    assert org["only_if"] == f"Answer only if you answered “Yes” to question {member['number']}."
    assert org["optional"] == "(optional)"
    cluster = c["sections"][3]
    assert cluster["title"] == "Your cluster organisation"
    assert cluster["skip"] == (f"Answer this section only if you answered “Yes” to question {member['number']}. "
                               "Otherwise, please go to section 5.")
    assert [s["skip"] for k, s in enumerate(c["sections"]) if k != 3] == [""] * (len(c["sections"]) - 1)
    fi = context(inst, "fi")
    assert fi["sections"][3]["skip"].startswith(f"Vastatkaa tähän osaan vain, jos vastasitte kysymykseen {member['number']} ”Kyllä”")


def test_user_text_is_escaped(tiny):
    tiny.constructs["aa"]["items"][0]["text"]["en"] = "<script>alert('x')</script> & more"
    html = render(load_instrument(tiny.write()), "en")
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html


def test_html_is_self_contained(inst, tmp_path):
    html = export(inst, "respondent", tmp_path / "r.html", languages=["en", "sv"])
    assert [p.name for p in html] == ["r.html", "r_sv.html"]
    text = html[1].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", text) and "<link" not in text


@pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium is not installed (make test installs it)")
def test_pdf_has_pages_and_the_questionnaire_text(inst, tmp_path):
    from pypdf import PdfReader

    html, pdf = export(inst, "respondent-pdf", tmp_path / "q.pdf", languages=["fi"])
    assert html.suffix == ".html" and pdf.read_bytes()[:5] == b"%PDF-"
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 10
    first = reader.pages[0]
    assert round(float(first.mediabox.width)) == 595  # A4
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Yrityksenne" in text and "Sivu 1 / " in text and "Kyselyn loppu" in text
    assert "firm_" not in text and "tk_1" not in text
