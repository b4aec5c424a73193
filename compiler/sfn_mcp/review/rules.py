"""The breaking-change rules of ``sfn-mcp diff``, as data: one ``Rule`` per kind of change.

``RULES`` is the table: a stable kebab-case ``id`` (the ``code`` of every finding, in every output
format), the ``area`` it belongs to, its severity on the input side and on the output side, and
what it means. Tool, workflow, server and annotation rules have one severity whatever the side;
schema rules depend on it (narrowing an input breaks callers, widening an output breaks readers).
A ``Variant`` is a named circumstance in which a rule has another severity on one side (a field
removed from an open input object). The code names every rule by its constant (``FIELD_REMOVED``)
and findings are only made from rows of this table, so the table is the whole list.

``rules_text``, ``rules_markdown`` (also pasted into the README) and ``rules_json`` render the
table for ``sfn-mcp diff --list-rules``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final, Literal

Severity = Literal["breaking", "non-breaking"]
Side = Literal["input", "output"]
Area = Literal["server", "tool", "workflow", "annotation", "schema"]
BREAKING: Final[Severity] = "breaking"
NON_BREAKING: Final[Severity] = "non-breaking"
B, N = BREAKING, NON_BREAKING

ID_PATTERN: Final = re.compile(r"[a-z]+(-[a-z]+)*")


@dataclass(frozen=True)
class Variant:
    """A named circumstance in which a rule has another severity on one side."""

    name: str
    side: Side
    severity: Severity
    meaning: str


@dataclass(frozen=True)
class Rule:
    """One kind of change: its id, area, severity per side and meaning.

    Only ``schema`` rules may differ between the sides; the others have ``input == output``.
    """

    id: str
    area: Area
    input: Severity
    output: Severity
    meaning: str
    variants: tuple[Variant, ...] = ()

    def __post_init__(self) -> None:
        if not ID_PATTERN.fullmatch(self.id):
            raise ValueError(f"rule id {self.id!r} is not kebab-case")
        if not self.sided and (self.input != self.output or self.variants):
            raise ValueError(f"rule {self.id}: only schema rules depend on the side")

    @property
    def sided(self) -> bool:
        """Whether the severity depends on the side (schema rules)."""
        return self.area == "schema"

    def severity(self, side: Side | None = None, variant: Variant | None = None) -> Severity:
        """The severity of a finding of this rule on ``side`` (``None``: a tool or the server),
        or in the circumstance ``variant`` (one of this rule's ``variants``, on that side)."""
        if variant is not None:
            if variant not in self.variants or variant.side != side:
                raise ValueError(f"rule {self.id} has no variant {variant.name!r} on {side}")
            return variant.severity
        if side is None:
            if self.sided:
                raise ValueError(f"rule {self.id} is classified per side: name the side")
            return self.input
        return self.input if side == "input" else self.output


def fixed(rule_id: str, area: Area, severity: Severity, meaning: str) -> Rule:
    """A rule with one severity whatever the side."""
    return Rule(rule_id, area, severity, severity, meaning)


def sided(
    rule_id: str, on_input: Severity, on_output: Severity, meaning: str, *variants: Variant
) -> Rule:
    """A schema rule: its severity in an inputSchema, then in an outputSchema."""
    return Rule(rule_id, "schema", on_input, on_output, meaning, variants)


FROM_OPEN_OBJECT: Final = Variant(
    "from-open-object",
    "input",
    NON_BREAKING,
    "from an open object (without `additionalProperties: false`), whose extra properties still "
    "accept the value: it is only no longer described, and the workflow may ignore it",
)

RULES: Final[tuple[Rule, ...]] = (
    fixed(
        "package-renamed",
        "server",
        B,
        "the package name changed: `python -m <package>` in client configurations must change",
    ),
    fixed("server-renamed", "server", N, "the server name clients see in `initialize` changed"),
    fixed(
        "surface-changed",
        "server",
        B,
        "tools/list changed between one tool per workflow and the search tools (`surface`): "
        "clients and prompts that call a tool by its name must change",
    ),
    fixed("version-changed", "server", N, "the package's version changed (serverInfo.version)"),
    fixed(
        "version-bump-too-small",
        "server",
        B,
        "the version moved less than the surface changes require (major for a breaking change, "
        "minor for an additive one): clients that trust semantic versions are misled",
    ),
    fixed(
        "permission-added",
        "server",
        N,
        "`iam-policy.json` grants an action on resources it did not: the server's role needs it "
        "before this package is deployed (one change per action)",
    ),
    fixed(
        "permission-removed",
        "server",
        N,
        "`iam-policy.json` no longer grants an action on some resources: the role may drop it "
        "(one change per action)",
    ),
    fixed("tool-removed", "tool", B, "a tool is gone: calls to it fail with an unknown-tool error"),
    fixed(
        "tool-renamed",
        "tool",
        B,
        "the same state machine ARN under another name: one change, not removed + added; the "
        "two contracts are then compared under the new name",
    ),
    fixed("tool-added", "tool", N, "a new tool"),
    fixed(
        "output-schema-removed",
        "tool",
        B,
        "the tool no longer declares an output schema: clients lose the typed result",
    ),
    fixed("output-schema-added", "tool", N, "the tool now declares an output schema"),
    fixed(
        "schema-version-changed",
        "tool",
        N,
        "the input/outputSchemaSource version changed (its schema diff is listed separately)",
    ),
    fixed(
        "schema-source-changed",
        "tool",
        N,
        "the input/outputSchemaSource ARN changed, was added or was removed",
    ),
    fixed(
        "tool-metadata-changed",
        "tool",
        N,
        "a tool or stateMachine key this version does not know (or one the old surface did not "
        "record yet) changed",
    ),
    fixed(
        "workflow-type-changed",
        "workflow",
        B,
        "EXPRESS <-> STANDARD: a result vs RUNNING and an execution ARN, the 5-minute limit, "
        "retries",
    ),
    fixed(
        "state-machine-changed",
        "workflow",
        N,
        "another state machine ARN, or one gained or lost (`stateMachine: null`, e.g. "
        "get_execution)",
    ),
    fixed(
        "definition-changed",
        "workflow",
        N,
        "definitionSha256 differs with the same contract: behaviour may change",
    ),
    fixed(
        "wait-changed",
        "workflow",
        N,
        "stateMachine.maxWaitSeconds: how long a STANDARD call waits before returning RUNNING",
    ),
    fixed(
        "cancel-behaviour-changed",
        "workflow",
        N,
        "stateMachine.stopOnCancel: whether a cancelled call stops the execution",
    ),
    fixed("title-changed", "annotation", N, "the title of a tool, a field or a class"),
    fixed("description-changed", "annotation", N, "the description of a tool, a field or a class"),
    fixed(
        "annotation-changed",
        "annotation",
        N,
        "an MCP hint of a tool (readOnly, destructive, idempotent, openWorld, title), each "
        "called out, or a schema annotation (examples, deprecated...)",
    ),
    sided("required-field-added", B, N, "a new required property"),
    sided("field-added", N, N, "a new optional property"),
    sided("field-removed", B, B, "a property is gone", FROM_OPEN_OBJECT),
    sided("field-now-required", B, N, "optional -> required"),
    sided("field-no-longer-required", N, B, "required -> optional (may be absent)"),
    sided("type-changed", B, B, "incompatible types (string -> integer)"),
    sided("type-narrowed", B, N, "number -> integer, a union member removed, any value -> a type"),
    sided("type-widened", N, B, "integer -> number, a union member added, a type -> any value"),
    sided("null-removed", B, N, "nullable -> non-null"),
    sided("null-added", N, B, "non-null -> nullable"),
    sided("enum-value-removed", B, N, "an enum value is gone (one change per value)"),
    sided("enum-value-added", N, B, "a new enum value (one change per value)"),
    sided("enum-added", B, N, "a free value becomes an enum (string -> enum class)"),
    sided("enum-removed", N, B, "an enum becomes a free value"),
    sided("const-added", B, N, "a fixed value appears"),
    sided("const-removed", N, B, "a fixed value is gone"),
    sided("const-changed", B, B, "another fixed value"),
    sided(
        "constraint-added",
        B,
        N,
        "a new min/maxLength, min/maxItems, min/maxProperties, minimum, maximum, "
        "exclusiveMinimum/Maximum, multipleOf, pattern, format or uniqueItems",
    ),
    sided(
        "constraint-tightened",
        B,
        N,
        "`max*` down, `min*` up, a bound made exclusive, multipleOf to a multiple",
    ),
    sided(
        "constraint-relaxed",
        N,
        B,
        "`max*` up, `min*` down, a bound made inclusive, multipleOf to a divisor",
    ),
    sided("constraint-removed", N, B, "a constraint is gone"),
    sided(
        "constraint-changed", B, B, "pattern or format replaced, multipleOf to an unrelated step"
    ),
    sided("additional-properties-closed", B, N, "additionalProperties true -> false"),
    sided("additional-properties-opened", N, N, "additionalProperties false -> true"),
    sided(
        "default-added",
        N,
        N,
        "a new default, called out: callers that leave the field out now send it",
    ),
    sided(
        "default-changed",
        N,
        N,
        "another default, called out: callers that leave the field out send another value",
    ),
    sided(
        "default-removed",
        N,
        N,
        "a default is gone, called out: callers that leave the field out no longer send it",
    ),
    sided(
        "keyword-changed",
        B,
        B,
        "a keyword the comparison does not classify (not, if/then/else, prefixItems, "
        "patternProperties, a remote $ref...) changed: review it by hand",
    ),
)

RULES_BY_ID: Final[dict[str, Rule]] = {row.id: row for row in RULES}
if len(RULES_BY_ID) != len(RULES):
    raise ValueError("two rows of RULES share an id")


def rule(rule_id: str) -> Rule:
    """The row of ``RULES`` with this id (a KeyError at import time for a misspelt one)."""
    return RULES_BY_ID[rule_id]


def is_rule(value: object) -> bool:
    """Whether ``value`` is a row of ``RULES`` (not merely an equal ``Rule``)."""
    return isinstance(value, Rule) and RULES_BY_ID.get(value.id) is value


# One constant per row: the code names rules by these, never by a string.
PACKAGE_RENAMED: Final = rule("package-renamed")
SERVER_RENAMED: Final = rule("server-renamed")
SURFACE_CHANGED: Final = rule("surface-changed")
VERSION_CHANGED: Final = rule("version-changed")
VERSION_BUMP_TOO_SMALL: Final = rule("version-bump-too-small")
PERMISSION_ADDED: Final = rule("permission-added")
PERMISSION_REMOVED: Final = rule("permission-removed")
TOOL_REMOVED: Final = rule("tool-removed")
TOOL_RENAMED: Final = rule("tool-renamed")
TOOL_ADDED: Final = rule("tool-added")
OUTPUT_SCHEMA_REMOVED: Final = rule("output-schema-removed")
OUTPUT_SCHEMA_ADDED: Final = rule("output-schema-added")
SCHEMA_VERSION_CHANGED: Final = rule("schema-version-changed")
SCHEMA_SOURCE_CHANGED: Final = rule("schema-source-changed")
TOOL_METADATA_CHANGED: Final = rule("tool-metadata-changed")
WORKFLOW_TYPE_CHANGED: Final = rule("workflow-type-changed")
STATE_MACHINE_CHANGED: Final = rule("state-machine-changed")
DEFINITION_CHANGED: Final = rule("definition-changed")
WAIT_CHANGED: Final = rule("wait-changed")
CANCEL_BEHAVIOUR_CHANGED: Final = rule("cancel-behaviour-changed")
TITLE_CHANGED: Final = rule("title-changed")
DESCRIPTION_CHANGED: Final = rule("description-changed")
ANNOTATION_CHANGED: Final = rule("annotation-changed")
REQUIRED_FIELD_ADDED: Final = rule("required-field-added")
FIELD_ADDED: Final = rule("field-added")
FIELD_REMOVED: Final = rule("field-removed")
FIELD_NOW_REQUIRED: Final = rule("field-now-required")
FIELD_NO_LONGER_REQUIRED: Final = rule("field-no-longer-required")
TYPE_CHANGED: Final = rule("type-changed")
TYPE_NARROWED: Final = rule("type-narrowed")
TYPE_WIDENED: Final = rule("type-widened")
NULL_REMOVED: Final = rule("null-removed")
NULL_ADDED: Final = rule("null-added")
ENUM_VALUE_REMOVED: Final = rule("enum-value-removed")
ENUM_VALUE_ADDED: Final = rule("enum-value-added")
ENUM_ADDED: Final = rule("enum-added")
ENUM_REMOVED: Final = rule("enum-removed")
CONST_ADDED: Final = rule("const-added")
CONST_REMOVED: Final = rule("const-removed")
CONST_CHANGED: Final = rule("const-changed")
CONSTRAINT_ADDED: Final = rule("constraint-added")
CONSTRAINT_TIGHTENED: Final = rule("constraint-tightened")
CONSTRAINT_RELAXED: Final = rule("constraint-relaxed")
CONSTRAINT_REMOVED: Final = rule("constraint-removed")
CONSTRAINT_CHANGED: Final = rule("constraint-changed")
ADDITIONAL_PROPERTIES_CLOSED: Final = rule("additional-properties-closed")
ADDITIONAL_PROPERTIES_OPENED: Final = rule("additional-properties-opened")
DEFAULT_ADDED: Final = rule("default-added")
DEFAULT_CHANGED: Final = rule("default-changed")
DEFAULT_REMOVED: Final = rule("default-removed")
KEYWORD_CHANGED: Final = rule("keyword-changed")

# The words of a tool or a schema, by keyword.
WORDS_CHANGED: Final = {"title": TITLE_CHANGED, "description": DESCRIPTION_CHANGED}


# ---------------------------------------------------------------------------------------------
# The table for `sfn-mcp diff --list-rules` and the README

SIDELESS_TITLE: Final = (
    "Tool, workflow, server and annotation rules (one severity whatever the side)"
)
SIDED_TITLE: Final = (
    "Schema rules (input: the inputSchema, what callers send; output: the outputSchema, what "
    "they receive)"
)


def _sideless() -> list[Rule]:
    return [row for row in RULES if not row.sided]


def _sided() -> list[Rule]:
    return [row for row in RULES if row.sided]


def _notes() -> list[tuple[Rule, Variant]]:
    return [(row, variant) for row in RULES for variant in row.variants]


def _cell(row: Rule, side: Side, notes: list[tuple[Rule, Variant]]) -> str:
    """A schema rule's severity on one side, with the numbers of its variants there."""
    marks = [f"[{n}]" for n, (r, v) in enumerate(notes, 1) if r is row and v.side == side]
    return " ".join([row.input if side == "input" else row.output, *marks])


def _note(number: int, row: Rule, variant: Variant) -> str:
    return f"[{number}] `{row.id}` on an {variant.side}: {variant.severity} {variant.meaning}."


def rules_text() -> str:
    """The table for a terminal: the side-free rules, then the schema rules per side."""
    notes = _notes()
    width = max(len(row.id) for row in RULES) + 2
    lines = [f"{SIDELESS_TITLE}:", ""]
    lines += [f"  {'rule':<{width}}{'area':<12}{'severity':<14}meaning"]
    for row in _sideless():
        lines.append(f"  {row.id:<{width}}{row.area:<12}{row.input:<14}{row.meaning}")
    lines += ["", f"{SIDED_TITLE}:", ""]
    lines += [f"  {'rule':<{width}}{'input':<18}{'output':<18}meaning"]
    for row in _sided():
        on_input, on_output = _cell(row, "input", notes), _cell(row, "output", notes)
        lines.append(f"  {row.id:<{width}}{on_input:<18}{on_output:<18}{row.meaning}")
    lines.append("")
    lines += [_note(number, row, variant) for number, (row, variant) in enumerate(notes, 1)]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md(text: str) -> str:
    """A table cell: pipes escaped (the meanings hold no other markdown)."""
    return text.replace("|", "\\|")


def rules_markdown() -> str:
    """The table as markdown: what the README shows between its ``rules`` markers."""
    notes = _notes()
    lines = [
        f"{SIDELESS_TITLE}:",
        "",
        "| Rule | Area | Severity | When |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{row.id}` | {row.area} | {row.input} | {_md(row.meaning)} |" for row in _sideless()
    ]
    lines += [
        "",
        f"{SIDED_TITLE}:",
        "",
        "| Rule | Input | Output | When |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{row.id}` | {_cell(row, 'input', notes)} | {_cell(row, 'output', notes)} | "
        f"{_md(row.meaning)} |"
        for row in _sided()
    ]
    if notes:
        lines.append("")
        lines += [_note(number, row, variant) for number, (row, variant) in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"


def rules_json() -> str:
    """The table for machines: ``{"rules": [...]}`` in table order; ``severity`` for side-free
    rules, ``input``/``output`` (and ``variants``) for schema rules."""
    rows: list[dict[str, object]] = []
    for row in RULES:
        data: dict[str, object] = {"id": row.id, "area": row.area}
        if row.sided:
            data |= {"input": row.input, "output": row.output}
        else:
            data["severity"] = row.input
        data["meaning"] = row.meaning
        if row.variants:
            data["variants"] = [
                {"name": v.name, "side": v.side, "severity": v.severity, "meaning": v.meaning}
                for v in row.variants
            ]
        rows.append(data)
    return json.dumps({"rules": rows}, indent=2, ensure_ascii=False) + "\n"


RULE_RENDERERS: Final = {"text": rules_text, "markdown": rules_markdown, "json": rules_json}
