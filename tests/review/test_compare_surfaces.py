"""``compare`` on whole surfaces: what the case folders cannot show (the realistic surface
against itself, the order of several findings with their values, errors, termination), and the
review room's modules (the library stays pure, no import cycles)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sfn_mcp
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.compare import compare
from sfn_mcp.review.rules import BREAKING, NON_BREAKING, TOOL_ADDED
from sfn_mcp.review.surface import parse_surface
from sfn_mcp.review.walk import _Walker
from tests.review.helpers import DEFS, GIFT, ORDER_IN, base_surface, put

B, N = BREAKING, NON_BREAKING
REVIEW = Path(sfn_mcp.__file__).parent / "review"


def test_the_realistic_surface_against_itself_has_no_changes() -> None:
    surface = base_surface()
    assert compare(parse_surface(surface, label="a"), parse_surface(surface, label="b")) == []


def test_changes_are_sorted_breaking_first_per_tool_with_values() -> None:
    new = base_surface()
    put(f"{DEFS}/Tier/enum", ["standard", "gold"])(new)
    put(f"{GIFT}/anyOf/0/maxLength", 100)(new)
    put("order_processing/description", "Other.")(new)
    changes = compare(parse_surface(base_surface(), label="a"), parse_surface(new, label="b"))
    assert [(c.severity, c.code, c.path) for c in changes] == [
        (B, "enum-value-removed", "input.customer.tier"),
        (B, "constraint-tightened", "input.giftMessage"),
        (N, "description-changed", "description"),
    ]
    assert changes[0].old == "platinum"
    tightened = changes[1]
    assert (tightened.old, tightened.new) == ({"maxLength": 200}, {"maxLength": 100})
    assert changes[2].message.startswith('tool description "Processes')


def test_a_dangling_ref_is_a_compile_error() -> None:
    new = base_surface()
    put(f"{ORDER_IN}/properties/customer/$ref", "#/$defs/Nobody")(new)
    with pytest.raises(CompileError, match="does not resolve") as info:
        compare(parse_surface(base_surface(), label="a"), parse_surface(new, label="b"))
    assert "tool order_processing: new input schema" in str(info.value)
    assert info.value.hint == "regenerate the surface with `sfn-mcp generate`"


def test_a_self_referencing_definition_terminates() -> None:
    surface = base_surface()
    put(f"{DEFS}/Loop", {"$ref": "#/$defs/Loop"})(surface)
    put(f"{ORDER_IN}/properties/loop", {"$ref": "#/$defs/Loop"})(surface)
    assert compare(parse_surface(surface, label="a"), parse_surface(surface, label="b")) == []


def test_the_walker_reports_only_schema_and_annotation_rules() -> None:
    walker = _Walker("t", "input", {}, {}, [])
    with pytest.raises(ValueError, match="not a schema rule"):
        walker.emit(TOOL_ADDED, "input", "m")


# -- the modules of the review room -------------------------------------------------------------


def imports(path: Path) -> set[str]:
    """The modules a file imports (absolute imports only: the room uses no relative ones)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: a relative import"
            found.add(str(node.module))
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(REVIEW.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_schema_library_is_pure() -> None:
    """It knows nothing of rules, findings or surfaces, and prints nothing."""
    allowed = {"__future__", "collections", "collections.abc", "fractions", "json", "math"}
    allowed |= {"typing", "sfn_mcp.schema_refs"}
    for path in sorted((REVIEW / "schemas").glob("*.py")):
        for name in imports(path):
            own = name.startswith("sfn_mcp.review.schemas")
            assert own or name in allowed, f"schemas/{path.name} imports {name}"


def test_the_review_modules_import_no_cycle_and_say_their_concern() -> None:
    paths = sorted(REVIEW.rglob("*.py"))
    names = {module_name(path): path for path in paths}
    graph = {
        name: {other for other in imports(path) if other in names and other != name}
        for name, path in names.items()
    }
    state: dict[str, str] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        assert state.get(name) != "open", f"import cycle: {' -> '.join((*trail, name))}"
        state[name] = "open"
        for other in sorted(graph[name]):
            visit(other, (*trail, name))
        state[name] = "done"

    for name in sorted(graph):
        visit(name, ())
    for name, path in names.items():
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert docstring, f"{name} has no module docstring"
