"""``sfn_mcp.review.schemas``: JSON Schema set comparison on its own, without tools or rules."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from sfn_mcp.review.schemas.bounds import bound, compare_limit, compare_multiple, lcm
from sfn_mcp.review.schemas.document import Document, UnresolvedRef
from sfn_mcp.review.schemas.intersect import all_of, intersect
from sfn_mcp.review.schemas.keywords import allowed, annotations_of, required, validation_of
from sfn_mcp.review.schemas.types import covers, for_type, meet, type_relation, types
from sfn_mcp.review.schemas.unions import Branch, any_value, label, marker, match
from sfn_mcp.review.schemas.values import (
    canonical,
    contains,
    distinct,
    fmt,
    json_type,
    number,
    plain,
    same,
)

# -- values ----------------------------------------------------------------------------------


def test_numbers_compare_by_value_and_booleans_are_not_numbers() -> None:
    assert same(1, 1.0) and same({"a": [1]}, {"a": [1.0]})
    assert not same(True, 1) and not same([True], [1]) and not same(False, 0)
    assert canonical({"b": 1.0, "a": 2}) == '{"a": 2, "b": 1}'
    assert distinct([2, 1.0, 1, 2.0]) == [1, 2]
    assert contains([1.0, "a"], 1) and not contains([1], True)


@pytest.mark.parametrize(
    ("value", "kind"),
    [(None, "null"), (True, "boolean"), (3, "integer"), (3.0, "integer"), (2.5, "number")]
    + [("x", "string"), ([1], "array"), ({}, "object")],
)
def test_json_type(value: Any, kind: str) -> None:
    assert json_type(value) == kind


def test_numbers_are_exact_rationals() -> None:
    assert number(0.1) == Fraction(1, 10) and number(3) == 3
    assert number(True) is None and number("1") is None and number(float("inf")) is None
    assert plain(Fraction(6, 2)) == 3 and isinstance(plain(Fraction(6, 2)), int)
    assert plain(Fraction(1, 4)) == 0.25
    assert fmt("x" * 100, 10) == '"xxxxxx...'


# -- keywords --------------------------------------------------------------------------------


def test_keyword_views() -> None:
    schema = {"title": "T", "default": 1, "$defs": {}, "type": "integer", "minimum": 0}
    assert annotations_of(schema) == {"title": "T", "default": 1}
    assert validation_of(schema) == {"type": "integer", "minimum": 0}
    assert required({"required": ["a", 1, "b"]}) == {"a", "b"} and required({}) == set()
    assert allowed({"const": 1}) == [1] and allowed({"enum": ["a"]}) == ["a"]
    assert allowed({"type": "string"}) is None


# -- types -----------------------------------------------------------------------------------


def test_the_types_a_schema_admits() -> None:
    assert types({"type": "string"}) == {"string"}
    assert types({"type": ["string", "null"]}) == {"string", "null"}
    assert types({"const": 1.0}) == {"integer"}
    assert types({"enum": ["a", None]}) == {"string", "null"}
    assert types({"minimum": 1}) is None
    assert covers(frozenset({"number"}), "integer") and not covers(frozenset({"integer"}), "number")
    assert covers(None, "object")


@pytest.mark.parametrize(
    ("old", "new", "relation"),
    [
        ({"number"}, {"integer"}, "narrow"),
        ({"integer"}, {"number"}, "widen"),
        ({"string"}, {"integer"}, "disjoint"),
        ({"string", "integer"}, {"integer", "boolean"}, "both"),
        (None, {"string"}, "narrow"),
        ({"string"}, None, "widen"),
        ({"number", "integer"}, {"number"}, "same"),
        ({"string", "null"}, {"null", "string"}, "same"),
    ],
)
def test_type_relation(old: set[str] | None, new: set[str] | None, relation: str) -> None:
    before = None if old is None else frozenset(old)
    after = None if new is None else frozenset(new)
    assert type_relation(before, after) == relation


def test_meet_and_one_type_of_a_list() -> None:
    assert meet([frozenset({"number"}), frozenset({"integer"})]) == "integer"
    assert meet([frozenset({"string", "null"}), frozenset({"string", "integer"})]) == "string"
    assert meet([frozenset({"string", "null"}), frozenset({"null", "string"})]) == [
        "null",
        "string",
    ]
    schema = {"type": ["string", "integer"], "maxLength": 3, "minimum": 1, "title": "T"}
    assert for_type(schema, "string") == {"type": "string", "maxLength": 3, "title": "T"}
    assert for_type(schema, "integer") == {"type": "integer", "minimum": 1, "title": "T"}


# -- bounds ----------------------------------------------------------------------------------


def test_a_bound_is_the_tighter_of_its_two_keywords() -> None:
    assert bound({"maximum": 5}, upper=True) == ("maximum", 5, False)
    assert bound({"maximum": 5, "exclusiveMaximum": True}, upper=True) == (
        "exclusiveMaximum",
        5,
        True,
    )  # draft 4: a boolean modifier
    assert bound({"maximum": 5, "exclusiveMaximum": 5}, upper=True) == ("exclusiveMaximum", 5, True)
    assert bound({"maximum": 4, "exclusiveMaximum": 5}, upper=True) == ("maximum", 4, False)
    assert bound({"minimum": 0, "exclusiveMinimum": 1}, upper=False) == (
        "exclusiveMinimum",
        1,
        True,
    )
    assert bound({"minimum": "1"}, upper=False) is None


@pytest.mark.parametrize(
    ("before", "after", "upper", "effect"),
    [
        (200, 100, True, "narrow"),
        (100, 200, True, "widen"),
        (1, 2, False, "narrow"),
        (None, 3, False, "narrow"),
        (3, None, True, "widen"),
        (1, 1.0, True, "none"),
        (None, "x", True, "none"),
    ],
)
def test_compare_limit(before: Any, after: Any, upper: bool, effect: str) -> None:
    assert compare_limit(before, after, upper=upper) == effect


@pytest.mark.parametrize(
    ("before", "after", "effect"),
    [
        (0.01, 0.05, "narrow"),  # every multiple of 0.05 is a multiple of 0.01
        (0.01, 0.005, "widen"),
        (0.02, 0.03, "both"),
        (None, 2, "narrow"),
        (2, None, "widen"),
        (2, 2.0, "none"),
    ],
)
def test_compare_multiple(before: Any, after: Any, effect: str) -> None:
    assert compare_multiple(before, after) == effect


def test_lcm_of_rationals() -> None:
    assert lcm([Fraction(2), Fraction(3)]) == 6
    assert lcm([Fraction(1, 2), Fraction(3, 4)]) == Fraction(3, 2)
    assert lcm([Fraction(1, 100), Fraction(1, 20)]) == Fraction(1, 20)


# -- intersect -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "merged"),
    [
        ([{"maximum": 10, "type": "integer"}, {"maximum": 5}], {"maximum": 5, "type": "integer"}),
        ([{"maximum": 5}, {"exclusiveMaximum": 5}], {"exclusiveMaximum": 5}),
        ([{"minLength": 2}, {"minLength": 5}, {"maxLength": 9}], {"minLength": 5, "maxLength": 9}),
        ([{"enum": ["a", "b", "c"]}, {"enum": ["b", "c", "d"]}], {"enum": ["b", "c"]}),
        ([{"const": "b"}, {"enum": ["a", "b"]}], {"const": "b"}),
        ([{"enum": [1, 2.0]}, {"enum": [2]}], {"enum": [2.0]}),
        ([{"type": "number"}, {"type": "integer"}], {"type": "integer"}),
        ([{"type": ["string", "null"]}, {"type": "string"}], {"type": "string"}),
        ([{"multipleOf": 0.5}, {"multipleOf": 0.75}], {"multipleOf": 1.5}),
        ([{"uniqueItems": False}, {"uniqueItems": True}], {"uniqueItems": True}),
        ([{"title": "A"}, {"title": "B", "description": "d"}], {"title": "A", "description": "d"}),
        ([{"required": ["a"]}, {"required": ["b", "a"]}], {"required": ["a", "b"]}),
        ([{"pattern": "^a"}, {"pattern": "b$"}], {"pattern": "^a", "allOf": [{"pattern": "b$"}]}),
        ([{"items": {"type": "string"}}, {"items": {"maxLength": 2}}], None),
    ],
)
def test_intersect(parts: list[dict[str, Any]], merged: dict[str, Any] | None) -> None:
    if merged is None:  # items: the allOf of both, resolved when the walk gets there
        merged = {"items": {"allOf": [{"maxLength": 2}, {"type": "string"}]}}
    assert intersect(parts) == merged


def test_intersect_merges_properties_and_a_closed_part_constrains_the_others() -> None:
    merged = intersect(
        [
            {"properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"a": {"maxLength": 3}, "b": {}}, "required": ["b"]},
        ]
    )
    assert merged == {
        "required": ["a", "b"],
        "properties": {"a": {"allOf": [{"maxLength": 3}, {"type": "string"}]}, "b": {}},
    }
    closed = intersect(
        [
            {"additionalProperties": False, "properties": {"a": {}}},
            {"properties": {"b": {"type": "string"}}},
        ]
    )
    assert closed["additionalProperties"] is False
    assert closed["properties"]["b"] == {"allOf": [False, {"type": "string"}]}  # never valid


def test_all_of() -> None:
    assert all_of([{"a": 1}, {"a": 1.0}]) == {"a": 1.0}
    assert all_of([True, {}]) is True
    assert all_of([{}, {"type": "string"}]) == {"type": "string"}


# -- unions ----------------------------------------------------------------------------------


def branch(schema: dict[str, Any], *refs: str) -> Branch:
    return Branch(schema, refs)


CARD = {"title": "Card", "type": "object", "properties": {"number": {}}}
INVOICE = {"title": "Invoice", "type": "object", "properties": {"vatId": {}}}


def test_reordered_members_pair_with_themselves() -> None:
    pairs, removed, added = match([branch(CARD), branch(INVOICE)], [branch(INVOICE), branch(CARD)])
    assert [(a.schema["title"], b.schema["title"]) for a, b in pairs] == [
        ("Card", "Card"),
        ("Invoice", "Invoice"),
    ]
    assert removed == added == []


def test_changed_members_pair_by_class_label_then_likeness() -> None:
    card = {**CARD, "properties": {"number": {}, "cvc": {}}}
    pairs, _, _ = match([branch(CARD), branch(INVOICE)], [branch(INVOICE), branch(card)])
    assert sorted((a.schema["title"], b.schema["title"]) for a, b in pairs) == [
        ("Card", "Card"),
        ("Invoice", "Invoice"),
    ]
    a = {"type": "object", "properties": {"a": {"const": 1}}}
    b = {"type": "object", "properties": {"b": {"const": 2}}}
    a2 = {"type": "object", "properties": {"a": {"const": 1}, "c": {}}}
    pairs, _, _ = match([branch(a), branch(b)], [branch(b), branch(a2)])
    assert [(x.schema, y.schema) for x, y in pairs] == [(b, b), (a, a2)]  # identical first


def test_unmatched_members_are_removed_or_added_and_a_lone_pair_is_a_type_change() -> None:
    string, null = branch({"type": "string"}), branch({"type": "null"})
    pairs, removed, added = match([string, null], [string])
    assert len(pairs) == 1 and removed == [null] and added == []
    pairs, removed, added = match([string], [branch({"type": "integer"})])
    assert len(pairs) == 1 and removed == added == []
    pairs, removed, added = match([branch({"type": "integer"})], [branch({"type": "number"})])
    assert len(pairs) == 1  # one family


def test_labels_markers_and_any_value() -> None:
    assert label(branch(CARD)) == "object Card"
    assert label(branch({"type": "object"}, "#/$defs/Address")) == "object Address"
    assert label(branch({"const": "card"})) == 'string "card"'
    assert label(branch({})) == "any value"
    assert marker(branch({"type": "object"}, "#/$defs/Card")) == "Card"
    assert marker(branch({"type": ["string", "integer"]})) == "integer/string"
    every = [branch({"type": t}) for t in ("object", "array", "string", "number", "boolean")]
    collapsed = any_value([*every, branch({"type": "null"})])
    assert [b.schema for b in collapsed] == [{}, {"type": "null"}]


# -- documents -------------------------------------------------------------------------------


ROOT = {
    "$defs": {
        "A": {"type": "string", "title": "A"},
        "Loop": {"$ref": "#/$defs/Loop"},
        "Ab": {"allOf": [{"$ref": "#/$defs/A"}, {"maxLength": 3}]},
    }
}


def test_refs_resolve_with_siblings_winning() -> None:
    document = Document(ROOT, "test")
    assert document.resolve({"$ref": "#/$defs/A", "title": "B"}) == (
        {"type": "string", "title": "B"},
        ("#/$defs/A",),
    )
    assert document.resolve({"$ref": "#/$defs/Loop"}) == ({}, ("#/$defs/Loop",))
    schema, refs = document.resolve({"$ref": "#/$defs/Ab"})
    assert schema == {"type": "string", "title": "A", "maxLength": 3}
    assert refs == ("#/$defs/Ab", "#/$defs/A")
    with pytest.raises(UnresolvedRef, match=r"test: \$ref '#/\$defs/Nobody' does not resolve"):
        document.resolve({"$ref": "#/$defs/Nobody"})


def test_branches_split_unions_and_type_lists() -> None:
    document = Document({}, "test")
    words, found = document.branches(
        {"type": ["string", "null"], "maxLength": 3, "description": "d"}
    )
    assert words == {"description": "d"}
    assert [b.schema for b in found] == [{"maxLength": 3, "type": "string"}, {"type": "null"}]
    words, found = document.branches(
        {
            "anyOf": [{"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "null"}],
            "title": "T",
        }
    )
    assert words == {"title": "T"}
    assert [b.schema for b in found] == [{"type": "string"}, {"type": "integer"}, {"type": "null"}]
    assert document.branches({"type": "string"}) == ({}, [Branch({"type": "string"}, ())])
