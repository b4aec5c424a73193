"""Client schema profiles: the portable profile inlines every non-recursive definition, and the
published schema then accepts and refuses exactly what the exact (source) form does."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sfn_mcp.models.profile import inline_definitions

CASES = sorted(
    p
    for p in (Path(__file__).parent / "models" / "cases").iterdir()
    if (p / "expected-input-schema.json").exists()
)
EXAMPLE = Path(__file__).parents[1] / "generated" / "ai_workflows" / "surface.json"


def verdict(schema: dict[str, Any], value: Any) -> bool:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return validator.is_valid(value)


def mutations(value: Any) -> list[Any]:
    """The value, and one change at a time: each key dropped, each value swapped for another
    type, one unknown key added (objects, at every depth)."""
    out = [value]
    if isinstance(value, dict):
        out.append({**value, "zz_unknown": 1})
        for key, item in value.items():
            out.append({k: v for k, v in value.items() if k != key})
            for other in (None, 7, "x", [], {}):
                out.append({**value, key: other})
            out += [{**value, key: m} for m in mutations(item)[1:4]]
    if isinstance(value, list) and value:
        out += [[m, *value[1:]] for m in mutations(value[0])[1:4]]
        out.append([*value, value[0]])
    return out


def refs(node: Any) -> int:
    text = json.dumps(node)
    return text.count('"$ref"')


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_portable_form_takes_exactly_the_arguments_the_exact_form_takes(case: Path) -> None:
    exact = json.loads((case / "expected-input-schema.json").read_text())
    portable = inline_definitions(copy.deepcopy(exact))
    payloads = []
    for name in ("accepted.json", "refused.json"):
        if (case / name).exists():
            for value in json.loads((case / name).read_text()):
                payloads += mutations(value)
    payloads += mutations({})
    assert payloads
    for value in payloads:
        assert verdict(portable, value) == verdict(exact, value), (case.name, value)


def test_non_recursive_definitions_are_inlined_and_recursive_ones_stay() -> None:
    exact = {
        "type": "object",
        "properties": {
            "customer": {"$ref": "#/$defs/Customer"},
            "tree": {"$ref": "#/$defs/Node"},
            "note": {"$ref": "#/$defs/Text", "description": "a note"},
        },
        "$defs": {
            "Customer": {"type": "object", "properties": {"address": {"$ref": "#/$defs/Address"}}},
            "Address": {"type": "object", "properties": {"city": {"type": "string"}}},
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            },
            "Text": {"type": "string", "description": "text"},
        },
    }
    portable = inline_definitions(copy.deepcopy(exact))
    customer = portable["properties"]["customer"]
    assert customer["properties"]["address"]["properties"]["city"] == {"type": "string"}
    assert portable["properties"]["tree"] == {"$ref": "#/$defs/Node"}
    assert set(portable["$defs"]) == {"Node"}
    # a $ref with its own keywords keeps them: allOf of the definition and those keywords
    assert portable["properties"]["note"] == {
        "allOf": [{"type": "string", "description": "text"}],
        "description": "a note",
    }


def test_the_committed_examples_publish_no_reference_a_client_would_render_as_any() -> None:
    surface = json.loads(EXAMPLE.read_text())
    for tool in surface["tools"]:
        assert refs(tool["inputSchema"]) == 0, tool["name"]
    assert surface.get("clientProfile") == "portable"
