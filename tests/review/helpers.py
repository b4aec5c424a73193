"""Shared helpers of the review tests (``tests/review/`` and ``tests/test_diff.py``).

- a realistic surface (``base_surface``: pydantic v2 schemas with ``$defs``, ``$ref``, anyOf-null,
  enum classes) and mutations of it (``put``, ``drop``, ``edit``...; paths start with a tool name,
  ``""`` for the surface, then keys or list indexes);
- the case folders: ``cases/<rule-id>/`` (and ``cases/<rule-id>/<shape>/``) each hold ``old.json``,
  ``new.json`` and ``expected.json``, the findings ``compare`` must give, in order;
  ``equivalent/<name>/`` hold pairs that must give none. After an intended change, rerun with
  ``UPDATE_CASES=1`` and review the diff of the expected.json files;
- ``write_surface`` and ``git`` for the loader tests.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_mcp.review.compare import compare
from sfn_mcp.review.surface import Change, parse_surface

HERE = Path(__file__).parent
CASES = HERE / "cases"
EQUIVALENT = HERE / "equivalent"
CASE_FILES = ("old.json", "new.json", "expected.json")
ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:ai-workflows-"
SCHEMA_ARN = "arn:aws:schemas:us-east-1:000000000000:schema/ai-workflows/"

Mutation = Callable[[dict[str, Any]], None]


# -- a realistic surface ----------------------------------------------------------------------


def nullable(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}], "default": None, **extra}


def execution_output(output: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    status = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    text = {"type": "string"}
    date = {"format": "date-time", "type": "string"}
    return {
        "$defs": {
            "ExecutionStatus": {"enum": status, "title": "ExecutionStatus", "type": "string"},
            **defs,
        },
        "additionalProperties": False,
        "properties": {
            "status": {"$ref": "#/$defs/ExecutionStatus"},
            "executionArn": nullable(text),
            "output": nullable(output),
            "error": nullable(text),
            "cause": nullable(text),
            "startDate": nullable(date),
            "stopDate": nullable(date),
        },
        "required": ["status"],
        "title": "ExecutionResult",
        "type": "object",
    }


def order_input() -> dict[str, Any]:
    def closed(title: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "additionalProperties": False,
            "description": description,
            "properties": properties,
            "required": list(properties),
            "title": title,
            "type": "object",
        }

    text = {"type": "string"}
    return {
        "$defs": {
            "Address": closed(
                "Address",
                "Where the parcel goes.",
                {
                    "street": dict(text),
                    "city": dict(text),
                    "country": {"pattern": "^[A-Z]{2}$", "type": "string"},
                },
            ),
            "Currency": {"enum": ["USD", "EUR", "GBP"], "title": "Currency", "type": "string"},
            "Customer": closed(
                "Customer",
                "The customer who placed the order.",
                {
                    "customerId": dict(text),
                    "email": {"description": "Gets the confirmation.", "type": "string"},
                    "tier": {"$ref": "#/$defs/Tier"},
                },
            ),
            "Item": closed(
                "Item",
                "One order line.",
                {
                    "sku": {"pattern": "^[A-Z]{2,5}-[0-9]{3,6}$", "type": "string"},
                    "quantity": {"maximum": 100, "minimum": 1, "type": "integer"},
                    "unitPrice": {"minimum": 0.0, "multipleOf": 0.01, "type": "number"},
                },
            ),
            "Tier": {"enum": ["standard", "gold", "platinum"], "title": "Tier", "type": "string"},
        },
        "additionalProperties": False,
        "description": "A customer placed an order in the web shop.",
        "properties": {
            "orderId": {"pattern": "^ORD-[0-9]{4,10}$", "type": "string"},
            "customer": {"$ref": "#/$defs/Customer"},
            "items": {"items": {"$ref": "#/$defs/Item"}, "minItems": 1, "type": "array"},
            "currency": {"$ref": "#/$defs/Currency"},
            "shippingAddress": nullable({"$ref": "#/$defs/Address"}),
            "giftMessage": nullable(
                {"maxLength": 200, "type": "string"}, description="Printed on the packing slip."
            ),
            "tags": {"default": [], "items": {"type": "string"}, "maxItems": 10, "type": "array"},
            "expedite": {"default": False, "type": "boolean"},
        },
        "required": ["orderId", "customer", "items", "currency"],
        "title": "OrderPlaced",
        "type": "object",
    }


def order_output() -> dict[str, Any]:
    confirmation = {
        "additionalProperties": False,
        "properties": {
            "orderId": {"pattern": "^ORD-[0-9]+$", "type": "string"},
            "total": {"type": "number"},
            "itemCount": {"type": "integer"},
        },
        "required": ["orderId", "total", "itemCount"],
        "title": "OrderConfirmation",
        "type": "object",
    }
    return execution_output(
        {"$ref": "#/$defs/OrderConfirmation"}, {"OrderConfirmation": confirmation}
    )


def machine(name: str, kind: str = "STANDARD") -> dict[str, Any]:
    return {
        "name": f"ai-workflows-{name}",
        "arn": ARN + name,
        "type": kind,
        "maxWaitSeconds": 50.0 if kind == "STANDARD" else None,
        "stopOnCancel": False,
        "definitionSha256": "a" * 64,
    }


def tool_hints(title: str, read_only: bool = False) -> dict[str, Any]:
    return {
        "title": title,
        "readOnlyHint": read_only,
        "destructiveHint": not read_only,
        "idempotentHint": read_only,
        "openWorldHint": True,
    }


def base_surface() -> dict[str, Any]:
    free_form = {
        "additionalProperties": True,
        "description": "Any JSON object; the workflow has no input schema.",
        "properties": {},
        "title": "FreeFormInput",
        "type": "object",
    }
    tools = [
        {
            "name": "get_execution",
            "title": "Get execution",
            "description": "The status and result of an execution started by another tool.",
            "stateMachine": None,
            "inputSchemaSource": None,
            "outputSchemaSource": None,
            "annotations": tool_hints("Get execution", read_only=True),
            "inputSchema": {
                "additionalProperties": False,
                "properties": {"executionArn": {"pattern": "^arn:", "type": "string"}},
                "required": ["executionArn"],
                "title": "GetExecution",
                "type": "object",
            },
            "outputSchema": execution_output({}, {}),
        },
        {
            "name": "order_processing",
            "title": "Order processing",
            "description": "Processes an OrderPlaced event from the web shop.",
            "stateMachine": machine("order-processing"),
            "inputSchemaSource": {"arn": SCHEMA_ARN + "OrderPlaced", "version": "1"},
            "outputSchemaSource": None,
            "annotations": tool_hints("Order processing"),
            "inputSchema": order_input(),
            "outputSchema": order_output(),
        },
        {
            "name": "support_triage",
            "title": "Support triage",
            "description": "Triages a support ticket.",
            "stateMachine": machine("support-triage", "EXPRESS"),
            "inputSchemaSource": None,
            "outputSchemaSource": None,
            "annotations": tool_hints("Support triage"),
            "inputSchema": free_form,
            "outputSchema": execution_output({}, {}),
        },
    ]
    return {"surfaceFormat": 1, "server": "ai-workflows", "package": "ai_workflows", "tools": tools}


# -- mutations of it: paths start with a tool name ("" for the surface), then keys or indexes --


def _locate(surface: dict[str, Any], path: str) -> tuple[Any, str | int]:
    tool, *parts = path.split("/")
    node: Any = surface
    if tool:
        node = next(t for t in surface["tools"] if t["name"] == tool)
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    return node, int(last) if isinstance(node, list) else last


def put(path: str, value: Any) -> Mutation:
    def apply(surface: dict[str, Any]) -> None:
        node, key = _locate(surface, path)
        node[key] = copy.deepcopy(value)

    return apply


def drop(path: str) -> Mutation:
    def apply(surface: dict[str, Any]) -> None:
        node, key = _locate(surface, path)
        del node[key]

    return apply


def edit(path: str, change: Callable[[Any], Any]) -> Mutation:
    def apply(surface: dict[str, Any]) -> None:
        node, key = _locate(surface, path)
        node[key] = change(node[key])

    return apply


def also(*mutations: Mutation) -> Mutation:
    def apply(surface: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(surface)

    return apply


def add_tool(tool: dict[str, Any]) -> Mutation:
    return lambda surface: surface["tools"].append(copy.deepcopy(tool))


def without(*values: Any) -> Callable[[Any], Any]:
    return lambda items: [item for item in items if item not in values]


def plus(*values: Any) -> Callable[[Any], Any]:
    return lambda items: [*items, *values]


def noop(surface: dict[str, Any]) -> None:
    pass


ORDER_IN = "order_processing/inputSchema"
ORDER_OUT = "order_processing/outputSchema"
DEFS = f"{ORDER_IN}/$defs"
CONFIRMATION = f"{ORDER_OUT}/$defs/OrderConfirmation"
GIFT = f"{ORDER_IN}/properties/giftMessage"
DAILY_ETL = {
    "name": "daily_etl",
    "title": "Daily etl",
    "description": "Daily ETL.",
    "stateMachine": machine("daily-etl"),
    "inputSchemaSource": None,
    "outputSchemaSource": None,
    "annotations": tool_hints("Daily etl"),
    "inputSchema": {"additionalProperties": False, "properties": {}, "type": "object"},
    "outputSchema": execution_output({}, {}),
}


# -- case folders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One folder: ``rule`` is the rule it shows (``None`` for an equivalent pair), ``name`` the
    folder relative to its root (``field-removed``, ``field-removed/output-field-removed``)."""

    rule: str | None
    name: str
    folder: Path

    def read(self, name: str) -> Any:
        return json.loads((self.folder / name).read_text(encoding="utf-8"))

    def run(self) -> list[Change]:
        old = parse_surface(self.read("old.json"), label=f"{self.name}/old.json")
        new = parse_surface(self.read("new.json"), label=f"{self.name}/new.json")
        return compare(old, new)

    def expected(self) -> list[dict[str, Any]]:
        rows = self.read("expected.json")
        assert isinstance(rows, list)
        return rows

    def write_expected(self, rows: list[dict[str, Any]]) -> None:
        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
        (self.folder / "expected.json").write_text(text, encoding="utf-8")


def _holds_a_case(folder: Path) -> bool:
    return (folder / "old.json").is_file()


def rule_cases() -> list[Case]:
    """Every ``cases/<rule-id>/`` folder and its ``<shape>/`` subfolders, sorted."""
    found = []
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        if _holds_a_case(folder):
            found.append(Case(folder.name, folder.name, folder))
        for shape in sorted(p for p in folder.iterdir() if p.is_dir()):
            found.append(Case(folder.name, f"{folder.name}/{shape.name}", shape))
    return found


def equivalent_cases() -> list[Case]:
    return [Case(None, p.name, p) for p in sorted(EQUIVALENT.iterdir()) if p.is_dir()]


def rows(changes: Sequence[Change]) -> list[dict[str, Any]]:
    """Findings as ``expected.json`` spells them: tool, rule, severity, path, message, values."""
    found = []
    for change in changes:
        data = change.as_dict()
        row = {"tool": data["tool"], "rule": data["code"], "severity": data["severity"]}
        row |= {"path": data["path"], "message": data["message"]}
        row |= {key: data[key] for key in ("old", "new") if key in data}
        found.append(row)
    return found


# -- files and git ------------------------------------------------------------------------------


def write_surface(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def git(repo: Path, *args: str) -> str:
    settings = ["user.name=Test", "user.email=test@example.com", "commit.gpgsign=false"]
    settings.append("core.hooksPath=/dev/null")
    result = subprocess.run(
        ["git", *(f for setting in settings for f in ("-c", setting)), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout
