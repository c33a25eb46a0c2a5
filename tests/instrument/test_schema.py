"""The schema rejects each kind of bad definition with a message naming file, construct/item and problem."""

import pytest

from instrument import load_instrument
from smecore.errors import DefinitionError


def problems(tiny) -> list[str]:
    with pytest.raises(DefinitionError) as exc:
        load_instrument(tiny.write())
    return exc.value.problems


def test_tiny_definition_is_valid(tiny):
    inst = load_instrument(tiny.write())
    assert [v.name for v in inst.variables(paradata=False)] == [
        "firm_size", "aa_1", "aa_2", "aa_3", "bb_1", "bb_2", "bb_3", "attn_1"]


def test_duplicate_item_id(tiny):
    tiny.constructs["bb"]["items"][0]["id"] = "aa_1"
    assert any("constructs/bb.yaml" in p and "duplicate variable id 'aa_1'" in p for p in problems(tiny))


def test_duplicate_construct_id(tiny):
    tiny.constructs["bb"]["id"] = "AA"
    assert any("constructs/bb.yaml: id: construct 'AA' is already defined in constructs/aa.yaml" in p
               for p in problems(tiny))


def test_unknown_response_scale(tiny):
    tiny.constructs["aa"]["scale"] = "agree99"
    assert any("constructs/aa.yaml: scale: unknown response scale 'agree99'" in p for p in problems(tiny))


def test_missing_english_text(tiny):
    tiny.constructs["aa"]["items"][2]["text"] = {"fi": "vain suomeksi"}
    assert any("constructs/aa.yaml: items.2.text: English text ('en') is missing" in p for p in problems(tiny))


def test_fewer_than_three_items(tiny):
    del tiny.constructs["bb"]["items"][2]
    assert any("constructs/bb.yaml: items:" in p and "at least 3 items" in p for p in problems(tiny))


def test_second_order_with_unknown_member(tiny):
    tiny.questionnaire["second_order"][0]["members"] = ["AA", "ZZ"]
    assert any("second_order.0 (SO): unknown member construct(s) ['ZZ']" in p for p in problems(tiny))


def test_hypothesis_naming_a_missing_construct(tiny):
    tiny.hypotheses["hypotheses"][0]["constructs"].append("NOPE")
    assert any("hypotheses.yaml: hypotheses.0 (H1): constructs: 'NOPE' does not exist" in p for p in problems(tiny))


def test_construct_without_seed_passage(tiny):
    tiny.constructs["aa"]["passage"] = None
    assert any("constructs/aa.yaml" in p and "seed file and the passage" in p for p in problems(tiny))


def test_bad_variable_name_and_origin(tiny):
    tiny.constructs["aa"]["items"][0]["id"] = "AA-1"
    tiny.constructs["aa"]["origin"] = "borrowed"
    ps = problems(tiny)
    assert any("items.0.id" in p and "not a valid variable name" in p for p in ps)
    assert any("origin" in p and "adapted from" in p for p in ps)


def test_all_problems_reported_together(tiny):
    tiny.constructs["aa"]["scale"] = "nope"
    tiny.hypotheses["hypotheses"][0]["constructs"] = ["XX"]
    assert len(problems(tiny)) >= 2


def test_bad_yaml_is_reported_with_file(tiny):
    tiny.write()
    (tiny.root / "constructs" / "aa.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"constructs/aa.yaml: not valid YAML"):
        load_instrument(tiny.root)


def test_translations_need_no_code_change(tiny):
    tiny.questionnaire["languages"] = [{"code": "en", "name": "English", "native": "English", "status": "source"},
                                       {"code": "fi", "name": "Finnish", "native": "Suomi", "status": "draft"}]
    tiny.constructs["aa"]["items"][0]["text"]["fi"] = "Ensimmäinen väite"
    inst = load_instrument(tiny.write())
    assert inst.languages == ("en", "fi")
    assert inst.variable("aa_1").label("fi") == "Ensimmäinen väite"
    assert inst.variable("aa_2").label("fi") == "AA item 2"  # falls back to English (coverage reports it)


def test_text_in_an_undeclared_language(tiny):
    tiny.constructs["aa"]["items"][0]["text"]["fr"] = "Premier"
    tiny.scales["scales"]["agree"]["points"][0]["label"]["xx"] = "?"
    found = problems(tiny)
    assert any("constructs/aa.yaml: items.0.text: language 'fr' is not declared" in p for p in found)
    assert any(p.startswith("scales.yaml: scales.agree.points.0.label: language 'xx'") for p in found)


def test_languages_start_with_english_source(tiny):
    tiny.questionnaire["languages"] = [{"code": "fi", "name": "Finnish", "native": "Suomi", "status": "draft"}]
    assert any("languages: the first language must be English" in p for p in problems(tiny))
    tiny.questionnaire["languages"] = [{"code": "en", "name": "English", "native": "English", "status": "source"},
                                       {"code": "fi", "name": "Finnish", "native": "Suomi", "status": "done"}]
    assert any("languages.1.status" in p for p in problems(tiny))


def test_unknown_respondent_string_and_bad_condition(tiny):
    tiny.questionnaire["respondent"] = {"sektion": {"en": "Section {number}"}}
    tiny.questionnaire["modules"][1]["relevant"] = {"firm_size": 3}
    found = problems(tiny)
    assert any("respondent: unknown respondent-view strings ['sektion']" in p for p in found)
    tiny.questionnaire["respondent"] = {}
    tiny.questionnaire["modules"][1]["relevant"] = {"firm_sizes": 1}
    assert any("modules (M1): relevant: 'firm_sizes' is not a profile question" in p for p in problems(tiny))


def _write_seeds(root, seeds):
    import yaml
    (root / "seeds.yaml").write_text(yaml.safe_dump({"seeds": seeds}), encoding="utf-8")


def test_seeds_cited_by_author_and_year(tiny):
    root = tiny.write()
    _write_seeds(root, [{"file": "000_x.txt", "authors": ["Harris", "Fletcher"], "year": 2012, "title": "T",
                         "source": "IBR", "doi": "10.1/x"}])
    inst = load_instrument(root)
    assert inst.cite("000_x.txt") == "Harris & Fletcher (2012)"
    assert inst.seeds["000_x.txt"].reference == "Harris & Fletcher (2012). T. IBR. https://doi.org/10.1/x"
    assert inst.cite("other.txt") == "other.txt"  # not listed: the file name, never a guess


@pytest.mark.parametrize(("authors", "expected"), [(["Rilla"], "Rilla (2016)"),
                                                   (["A", "B", "C"], "A et al. (2016)")])
def test_seed_citation_apa(authors, expected):
    from instrument.schema import Seed
    assert Seed(file="f", authors=authors, year=2016, title="t", source="s").citation == expected


def test_seed_not_listed_is_reported_with_its_file(tiny):
    root = tiny.write()
    _write_seeds(root, [{"file": "001_y.txt", "authors": ["R"], "year": 2016, "title": "T", "source": "S"}])
    with pytest.raises(DefinitionError) as exc:
        load_instrument(root)
    found = exc.value.problems
    assert any(p.startswith("constructs/aa.yaml: seed: '000_x.txt' is not listed in seeds.yaml") for p in found)
    assert any(p.startswith("hypotheses.yaml: hypotheses.0 (H1): seed: '000_x.txt'") for p in found)


def test_packaged_definition_cites_every_seed_by_author():
    inst = load_instrument()
    cited = {c.seed for c in inst.constructs.values() if c.seed} | {h.seed for h in inst.hypotheses}
    assert cited <= set(inst.seeds)
    assert inst.cite("002_b3d5b94b6e03dc3d.txt") == "Harris & Fletcher (2012)"
