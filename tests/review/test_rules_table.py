"""The rules table keeps the code honest: every finding is made from a row of ``RULES`` named by
its constant (the source is read with ``ast``), every row is emitted somewhere, severities come
from the table, and the README shows the table as ``rules_markdown()`` renders it."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

import sfn_mcp
from sfn_mcp.review import rules
from sfn_mcp.review.rules import (
    FIELD_REMOVED,
    FROM_OPEN_OBJECT,
    RULES,
    RULES_BY_ID,
    TOOL_ADDED,
    Rule,
    Variant,
    fixed,
    is_rule,
    rules_markdown,
)
from sfn_mcp.review.surface import finding

PACKAGE = Path(sfn_mcp.__file__).parent
REVIEW = PACKAGE / "review"
RULES_MODULE = REVIEW / "rules.py"
ROOT = PACKAGE.parents[1]
README = ROOT / "README.md"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"
# Where findings are recorded: the rule is the first argument of each.
RECORDERS = frozenset({"emit", "finding"})


def sources() -> Iterator[tuple[Path, ast.Module]]:
    """The modules that may report changes: the review room and the diff command."""
    for path in sorted([*REVIEW.rglob("*.py"), PACKAGE / "cli" / "diff.py"]):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def constants() -> dict[str, str]:
    """``NAME: Final = rule("id")`` in rules.py: constant name → rule id."""
    tree = ast.parse(RULES_MODULE.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value
            if isinstance(call.func, ast.Name) and call.func.id == "rule":
                target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
                assert isinstance(target, ast.Name)
                (argument,) = call.args
                assert isinstance(argument, ast.Constant) and isinstance(argument.value, str)
                assert target.id not in found, f"{target.id} is defined twice"
                found[target.id] = argument.value
    return found


def rule_mappings(names: dict[str, str]) -> dict[str, set[str]]:
    """Module-level dicts of rules.py whose values are all rule constants (``WORDS_CHANGED``)."""
    tree = ast.parse(RULES_MODULE.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Dict):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            values = node.value.values
            constant = all(isinstance(v, ast.Name) and v.id in names for v in values)
            if isinstance(target, ast.Name) and values and constant:
                found[target.id] = {cast(ast.Name, v).id for v in values}
    return found


def named_rules(node: ast.expr, names: dict[str, str], mappings: dict[str, set[str]]) -> set[str]:
    """The rule constants a recorder's rule argument can be; AssertionError for anything else
    (a string, an f-string, a variable, a call...)."""
    if isinstance(node, ast.Name) and node.id in names:
        return {node.id}
    if isinstance(node, ast.IfExp):
        return named_rules(node.body, names, mappings) | named_rules(node.orelse, names, mappings)
    if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) in mappings:
        return mappings[cast(ast.Name, node.value).id]
    raise AssertionError(f"line {node.lineno}: {ast.unparse(node)} is not a rule constant")


def enclosing_functions(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node → the name of the innermost function around it (``<module>`` for none)."""
    found: dict[ast.AST, str] = {}

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else where
            found[child] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return found


def recorder_calls(tree: ast.Module) -> Iterator[ast.Call]:
    """Calls of ``emit``/``finding``, except the ``emit`` wrappers forwarding their ``rule``."""
    where = enclosing_functions(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and where[node] != "emit":
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in RECORDERS:
                yield node


def test_ids_are_unique_kebab_case_and_each_has_one_constant() -> None:
    assert len(RULES_BY_ID) == len(RULES)
    names = constants()
    assert sorted(names.values()) == sorted(RULES_BY_ID), "one constant per row"
    for name, rule_id in names.items():
        assert name == rule_id.upper().replace("-", "_")
        assert getattr(rules, name) is RULES_BY_ID[rule_id]


def test_every_finding_names_its_rule_by_a_constant_and_every_rule_is_emitted() -> None:
    names = constants()
    mappings = rule_mappings(names)
    emitted: set[str] = set()
    calls = 0
    for path, tree in sources():
        for call in recorder_calls(tree):
            assert call.args, f"{path.name}:{call.lineno}: the rule must come first"
            try:
                emitted |= named_rules(call.args[0], names, mappings)
            except AssertionError as exc:
                raise AssertionError(f"{path.relative_to(PACKAGE)}: {exc}") from None
            calls += 1
    assert calls >= 40
    assert emitted == set(names), f"never emitted: {sorted(set(names) - emitted)}"


def test_rule_ids_appear_in_the_code_only_as_constants() -> None:
    """No string spelling of a rule id outside the table, and ``rule()`` only in rules.py."""
    for path, tree in sources():
        for node in ast.walk(tree):
            if path == RULES_MODULE:
                continue
            if isinstance(node, ast.Constant) and node.value in RULES_BY_ID:
                raise AssertionError(f"{path.name}:{node.lineno}: {node.value!r} as a string")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "rule":
                raise AssertionError(f"{path.name}:{node.lineno}: rule() outside rules.py")
        if path == RULES_MODULE:
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "rule":
                    (argument,) = node.args
                    assert isinstance(argument, ast.Constant) and argument.value in RULES_BY_ID


def test_changes_are_made_only_by_finding() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = enclosing_functions(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Change":
                assert (path.name, where[node]) == ("surface.py", "finding"), (
                    f"{path.relative_to(PACKAGE)}:{node.lineno} makes a Change in {where[node]}"
                )


def test_finding_accepts_only_rows_of_the_table() -> None:
    copy = dataclasses.replace(TOOL_ADDED)
    assert copy == TOOL_ADDED and not is_rule(copy)
    with pytest.raises(TypeError, match="not a row"):
        finding(copy, tool="t", path="tool", message="m")
    with pytest.raises(TypeError, match="not a row"):
        finding(cast(Any, "tool-added"), tool="t", path="tool", message="m")
    made = finding(TOOL_ADDED, tool="t", path="tool", message="m")
    assert (made.code, made.severity) == ("tool-added", "non-breaking")


def test_severity_comes_from_the_rule_and_the_side() -> None:
    assert FIELD_REMOVED.severity("input") == "breaking"
    assert FIELD_REMOVED.severity("output") == "breaking"
    assert FIELD_REMOVED.severity("input", FROM_OPEN_OBJECT) == "non-breaking"
    with pytest.raises(ValueError, match="per side"):
        FIELD_REMOVED.severity()
    with pytest.raises(ValueError, match="no variant"):
        FIELD_REMOVED.severity("output", FROM_OPEN_OBJECT)
    with pytest.raises(ValueError, match="no variant"):
        TOOL_ADDED.severity(None, FROM_OPEN_OBJECT)
    assert TOOL_ADDED.severity() == TOOL_ADDED.severity("output") == "non-breaking"


def test_rows_are_well_formed() -> None:
    with pytest.raises(ValueError, match="kebab-case"):
        fixed("Tool_Added", "tool", "non-breaking", "x")
    with pytest.raises(ValueError, match="only schema rules"):
        Rule("x-changed", "tool", "breaking", "non-breaking", "x")
    variant = Variant("v", "input", "non-breaking", "x")
    with pytest.raises(ValueError, match="only schema rules"):
        Rule("x-changed", "tool", "breaking", "breaking", "x", (variant,))
    for row in RULES:
        assert row.meaning and "\n" not in row.meaning and not row.meaning.endswith(".")
        assert row.input in ("breaking", "non-breaking") and row.output in (
            "breaking",
            "non-breaking",
        )


def test_the_readme_shows_the_rules_table() -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, "one pair of rules markers"
    inner = text[text.index(START) + len(START) : text.index(END)]
    assert inner.strip("\n") == rules_markdown().strip("\n"), (
        f"the README's rules table is stale: put rules_markdown() between {START} and {END}"
    )
