from smecore.errors import (
    ConvergenceError,
    DataError,
    DefinitionError,
    EstimationError,
    SmeSurveyError,
)


def test_definition_error_lists_every_problem():
    err = DefinitionError(["a.yaml: id: duplicate", "b.yaml: items: fewer than 3"])
    assert err.problems == ["a.yaml: id: duplicate", "b.yaml: items: fewer than 3"]
    text = str(err)
    assert "2 problems" in text and "a.yaml: id: duplicate" in text and "b.yaml" in text


def test_single_problem_is_the_message():
    assert str(DefinitionError("x.yaml: bad")) == "x.yaml: bad"


def test_family_and_codes_are_distinct():
    classes = [DefinitionError, DataError, EstimationError, ConvergenceError]
    assert all(issubclass(c, SmeSurveyError) for c in classes)
    assert issubclass(ConvergenceError, EstimationError)
    assert len({c.code for c in classes}) == len(classes)
