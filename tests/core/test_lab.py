"""Lab specs: what is allowed, what a URL query becomes, and what the key depends on."""

from __future__ import annotations

import math

import pytest

from fooling import lab
from fooling.lab import DEFAULT, LabSpec, SpecError, from_params, from_query, parse_spec, spec_key

CANONICAL = "digits=0,1,2,3&hidden=50,20&act=relu&solver=adam&lr=0.001&alpha=0.0001&epochs=50&seed=21"


def form(**change):
    values = DEFAULT.as_dict()
    values.update(change)
    return values


def test_the_default_spec_is_the_canonical_query():
    assert DEFAULT.query() == CANONICAL
    assert from_query("?" + CANONICAL) == (DEFAULT, [])
    assert DEFAULT.layers == (50, 20, 2)
    assert DEFAULT.describe().startswith("784-50-20-2-4 relu net on digits 0, 1, 2, 3")


def test_form_values_as_typed_are_accepted_and_normalised():
    spec = parse_spec(form(digits=[9, 3, 8], hidden=" 128 , 2 ,64", activation="tanh", solver="sgd", lr="1e-2",
                           alpha="0", epochs="300", seed=0))
    assert spec == LabSpec((3, 8, 9), (128, 2, 64), "tanh", "sgd", 0.01, 0.0, 300, 0)
    assert parse_spec(form(digits="0,1", epochs=7.0)).epochs == 7
    assert parse_spec(form(digits=list(range(10)))).digits == tuple(range(10))
    assert from_query("?" + spec.query())[0] == spec


@pytest.mark.parametrize("field, value", [
    ("digits", []), ("digits", [4]), ("digits", [1, 1]), ("digits", [0, 10]), ("digits", list(range(11))),
    ("digits", "0,x"), ("digits", [True, False]), ("digits", [0.5, 1]),
    ("hidden", "10000"), ("hidden", "1"), ("hidden", "50,20,10,5"), ("hidden", ""), ("hidden", "50;20"),
    ("hidden", [0]), ("activation", "evil"), ("activation", "RELU"), ("activation", 1), ("solver", "lbfgs"),
    ("lr", "nan"), ("lr", math.nan), ("lr", math.inf), ("lr", "0"), ("lr", 2.0), ("lr", "1e-7"), ("lr", "-0.01"),
    ("alpha", -1), ("alpha", "inf"), ("alpha", 5), ("epochs", -1), ("epochs", 0), ("epochs", 301), ("epochs", 2.5),
    ("epochs", "1e2"), ("epochs", True), ("seed", -1), ("seed", 2**31), ("seed", "x"), ("seed", None),
    ("lr", "1" * 1_000_000), ("hidden", "5," * 500_000), ("digits", [0] * 1000), ("lr", {"a": 1}), ("seed", [1]),
])
def test_invalid_values_are_refused_with_what_is_allowed(field, value):
    with pytest.raises(SpecError) as err:
        parse_spec(form(**{field: value}))
    assert err.value.field == field
    assert field in str(err.value) and len(str(err.value)) < 200
    words = lab.LIMITS[field].split()[-1]
    assert words in str(err.value)


def test_a_missing_field_or_no_mapping_is_refused():
    values = form()
    del values["alpha"]
    with pytest.raises(SpecError, match="alpha is missing"):
        parse_spec(values)
    with pytest.raises(SpecError):
        parse_spec(["digits"])


def test_a_partial_query_takes_the_defaults_for_the_rest():
    spec, problems = from_query("digits=3,8&act=tanh")
    assert problems == []
    assert spec == LabSpec(digits=(3, 8), activation="tanh")
    assert from_query("") == (DEFAULT, []) and from_query(None) == (DEFAULT, [])


@pytest.mark.parametrize("query, bad", [
    ("digits=0,1&digits=2,3", "more than once"),
    ("act=evil&epochs=30", "act"),
    ("lr=nan", "lr"),
    ("epochs=-1", "epochs"),
    ("hidden=10000", "hidden"),
    ("digits=", "digits"),
    ("x=1&epochs=30", "Unknown"),
    ("%ff%fe=%00&epochs=30", "Unknown"),
    ("epochs=" + "9" * 1_000_000, "characters long"),
    ("&".join(f"k{i}=1" for i in range(100)), "too many"),
])
def test_bad_or_hostile_queries_fall_back_to_the_defaults_with_a_short_problem(query, bad):
    spec, problems = from_query(query)
    assert problems and any(bad in p for p in problems), problems
    assert len(problems) <= 4 and all(len(p) < 240 for p in problems)
    for field in ("activation", "lr", "hidden"):
        if bad in (field, "act"):
            assert getattr(spec, field) == getattr(DEFAULT, field)
    if "epochs=30" in query:
        assert spec.epochs == 30  # the good keys are kept


def test_parsed_params_like_the_browsers_give_them():
    assert from_params({"digits": ["3,8"], "epochs": ["5"]}) == (LabSpec(digits=(3, 8), epochs=5), [])
    spec, problems = from_params({"digits": ["0,1", "2,3"]})
    assert spec == DEFAULT and "more than once" in problems[0]
    for junk in ("x", 1, ["a"], {"digits": "0,1"}, {"digits": [1]}, {str(i): ["1"] for i in range(40)}):
        spec, problems = from_params(junk)
        assert spec == DEFAULT and problems
    assert from_params(None) == (DEFAULT, []) and from_params({}) == (DEFAULT, [])


def test_the_key_depends_on_every_field_and_the_data_but_not_on_how_numbers_are_written():
    key = spec_key(DEFAULT, "data")
    assert key == spec_key(parse_spec(form(lr="1e-3", alpha="1E-4", hidden="50, 20")), "data")
    assert len(key) == 16 and all(c in "0123456789abcdef" for c in key)
    others = [spec_key(DEFAULT, "other data")] + [spec_key(parse_spec(form(**{f: v})), "data") for f, v in (
        ("digits", [0, 1]), ("hidden", "50"), ("activation", "tanh"), ("solver", "sgd"), ("lr", 0.002),
        ("alpha", 0.001), ("epochs", 51), ("seed", 22))]
    assert len({key, *others}) == len(others) + 1
