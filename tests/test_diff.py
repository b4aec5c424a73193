"""``sfn-mcp diff``: classification rules, loading (files, folders, git revisions), renderers,
snapshots and exit codes.

Snapshots of the three formats live in tests/snapshots/diff.{txt,md,json}; after an intended
change, rerun with ``UPDATE_SNAPSHOTS=1`` and review the diff of those files.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sfn_mcp.cli.diff import diff
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.diff import (
    BREAKING,
    NON_BREAKING,
    Change,
    Surface,
    compare,
    load_surface,
    parse_surface,
    render_json,
    render_markdown,
    render_text,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:ai-workflows-"
SCHEMA_ARN = "arn:aws:schemas:us-east-1:000000000000:schema/ai-workflows/"
B, N = BREAKING, NON_BREAKING

Mutation = Callable[[dict[str, Any]], None]


# -- a realistic surface: pydantic v2 schemas with $defs, $ref, anyOf-null, enum classes -------


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


# -- mutations: paths start with a tool name ("" for the surface), then keys or list indexes -----


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
UNIT_PRICE = f"{DEFS}/Item/properties/unitPrice"
EMAIL = f"{DEFS}/Customer/properties/email"
TRIAGE_IN = "support_triage/inputSchema"
CATEGORY = {
    "additionalProperties": False,
    "properties": {
        "name": {"maxLength": 50, "type": "string"},
        "children": {"items": {"$ref": "#/$defs/Category"}, "type": "array"},
    },
    "required": ["name"],
    "title": "Category",
    "type": "object",
}
CARD = {
    "additionalProperties": False,
    "properties": {"kind": {"const": "card", "type": "string"}, "number": {"type": "string"}},
    "required": ["kind", "number"],
    "title": "Card",
    "type": "object",
}
INVOICE = {
    "additionalProperties": False,
    "properties": {"kind": {"const": "invoice", "type": "string"}, "vatId": {"type": "string"}},
    "required": ["kind"],
    "title": "Invoice",
    "type": "object",
}
PAYMENT = {
    "discriminator": {
        "mapping": {"card": "#/$defs/Card", "invoice": "#/$defs/Invoice"},
        "propertyName": "kind",
    },
    "oneOf": [{"$ref": "#/$defs/Card"}, {"$ref": "#/$defs/Invoice"}],
}
with_payment = also(
    put(f"{DEFS}/Card", CARD),
    put(f"{DEFS}/Invoice", INVOICE),
    put(f"{ORDER_IN}/properties/payment", PAYMENT),
)
with_category = also(
    put(f"{DEFS}/Category", CATEGORY),
    put(f"{ORDER_IN}/properties/category", nullable({"$ref": "#/$defs/Category"})),
)
# How the runtime publishes an untyped output: every JSON type, or null.
ANY_JSON = {
    "anyOf": [{"type": t} for t in ("object", "array", "string", "number", "boolean", "null")],
    "default": None,
}
# Two members that only their properties tell apart (no title, no $ref).
UNTITLED_OBJECTS = [
    {"properties": {"a": {"const": 1}}, "type": "object"},
    {"properties": {"b": {"const": 2}}, "type": "object"},
]
UNTITLED_VARIANTS = [
    {"properties": {"kind": {"const": 1}}, "required": ["kind"], "type": "object"},
    {"properties": {"kind": {"const": 2}, "extra": {"type": "string"}}, "type": "object"},
]
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


def case(
    name: str, new: Mutation, expected: list[tuple[str, str, str]], old: Mutation = noop
) -> Any:
    """One row: ``new`` and ``old`` each mutate a fresh base surface."""
    return pytest.param(old, new, expected, id=name)


CASES = [
    case("unchanged", noop, []),
    # tools
    case("tool-added", add_tool(DAILY_ETL), [(N, "tool-added", "tool")]),
    case("tool-removed", edit("/tools", lambda ts: ts[:2]), [(B, "tool-removed", "tool")]),
    case(
        "tool-renamed-same-arn",
        put("order_processing/name", "place_order"),
        [(B, "tool-renamed", "tool")],
    ),
    case(
        "renamed-and-changed",
        also(put(f"{GIFT}/anyOf/0/maxLength", 100), put("order_processing/name", "place_order")),
        [(B, "tool-renamed", "tool"), (B, "constraint-tightened", "input.giftMessage")],
    ),
    case(
        "null-state-machine-is-no-rename",
        put("get_execution/name", "get_status"),
        [(B, "tool-removed", "tool"), (N, "tool-added", "tool")],
    ),
    case(
        "standard-to-express",
        put("order_processing/stateMachine/type", "EXPRESS"),
        [(B, "workflow-type-changed", "stateMachine.type")],
    ),
    case(
        "express-to-standard",
        put("support_triage/stateMachine/type", "STANDARD"),
        [(B, "workflow-type-changed", "stateMachine.type")],
    ),
    case(
        "definition-hash-only",
        put("order_processing/stateMachine/definitionSha256", "b" * 64),
        [(N, "definition-changed", "stateMachine.definitionSha256")],
    ),
    case(
        "longer-wait",
        put("order_processing/stateMachine/maxWaitSeconds", 300.0),
        [(N, "wait-changed", "stateMachine.maxWaitSeconds")],
    ),
    case(
        "stop-on-cancel-turned-on",
        put("order_processing/stateMachine/stopOnCancel", True),
        [(N, "cancel-behaviour-changed", "stateMachine.stopOnCancel")],
    ),
    case(
        "state-machine-arn",
        put("order_processing/stateMachine/arn", ARN.replace("us-east-1", "eu-west-1") + "x"),
        [(N, "state-machine-changed", "stateMachine.arn")],
    ),
    case(
        "tool-title-and-description",
        also(
            put("order_processing/title", "Place order"),
            put("order_processing/description", "New."),
        ),
        [(N, "description-changed", "description"), (N, "title-changed", "title")],
    ),
    case(
        "annotation-hints",
        also(
            put("order_processing/annotations/readOnlyHint", True),
            put("order_processing/annotations/destructiveHint", False),
        ),
        [
            (N, "annotation-changed", "annotations.destructiveHint"),
            (N, "annotation-changed", "annotations.readOnlyHint"),
        ],
    ),
    case(
        "input-schema-version",
        put("order_processing/inputSchemaSource/version", "2"),
        [(N, "schema-version-changed", "inputSchemaSource")],
    ),
    case(
        "output-schema-source-added",
        put(
            "order_processing/outputSchemaSource", {"arn": SCHEMA_ARN + "Confirmed", "version": "1"}
        ),
        [(N, "schema-source-changed", "outputSchemaSource")],
    ),
    case(
        "server-and-package-renamed",
        also(put("/server", "shop"), put("/package", "shop_tools")),
        [(B, "package-renamed", "package"), (N, "server-renamed", "server")],
    ),
    # input fields
    case(
        "required-field-added",
        also(
            put(f"{ORDER_IN}/properties/channel", {"type": "string"}),
            edit(f"{ORDER_IN}/required", plus("channel")),
        ),
        [(B, "required-field-added", "input.channel")],
    ),
    case(
        "optional-field-added",
        put(f"{ORDER_IN}/properties/couponCode", nullable({"type": "string"})),
        [(N, "field-added", "input.couponCode")],
    ),
    case(
        "field-with-a-dot-added",
        put(f"{ORDER_IN}/properties/a.b", {"type": "string"}),
        [(N, "field-added", 'input["a.b"]')],
    ),
    case(
        "optional-became-required",
        edit(f"{ORDER_IN}/required", plus("giftMessage")),
        [(B, "field-now-required", "input.giftMessage")],
    ),
    case(
        "required-became-optional",
        edit(f"{ORDER_IN}/required", without("currency")),
        [(N, "field-no-longer-required", "input.currency")],
    ),
    case(
        "field-removed-from-closed-object-via-ref",
        also(drop(f"{EMAIL}"), edit(f"{DEFS}/Customer/required", without("email"))),
        [(B, "field-removed", "input.customer.email")],
    ),
    case(
        "field-removed-from-open-object",
        noop,
        [(N, "field-removed", "input.subject")],
        old=put(f"{TRIAGE_IN}/properties/subject", {"type": "string"}),
    ),
    case(
        "free-form-input-becomes-typed",
        also(
            put(f"{TRIAGE_IN}/properties/subject", {"type": "string"}),
            put(f"{TRIAGE_IN}/required", ["subject"]),
            put(f"{TRIAGE_IN}/additionalProperties", False),
        ),
        [
            (B, "additional-properties-closed", "input"),
            (B, "required-field-added", "input.subject"),
        ],
    ),
    # types
    case(
        "number-to-integer-in-array-item-via-ref",
        put(f"{UNIT_PRICE}/type", "integer"),
        [(B, "type-narrowed", "input.items[].unitPrice")],
    ),
    case(
        "integer-to-number",
        put(f"{DEFS}/Item/properties/quantity/type", "number"),
        [(N, "type-widened", "input.items[].quantity")],
    ),
    case(
        "string-to-integer",
        put(f"{ORDER_IN}/properties/orderId/type", "integer"),
        [(B, "type-changed", "input.orderId")],
    ),
    case(
        "array-item-type-changed",
        put(f"{ORDER_IN}/properties/tags/items/type", "integer"),
        [(B, "type-changed", "input.tags[]")],
    ),
    case(
        "string-to-enum-class",
        noop,
        [(B, "enum-added", "input.currency"), (N, "title-changed", "input.currency")],
        old=put(f"{ORDER_IN}/properties/currency", {"type": "string"}),
    ),
    case(
        "nullable-to-non-null",
        put(
            GIFT,
            {"description": "Printed on the packing slip.", "maxLength": 200, "type": "string"},
        ),
        [(B, "null-removed", "input.giftMessage"), (N, "default-removed", "input.giftMessage")],
    ),
    case(
        "non-null-to-nullable",
        edit(f"{ORDER_IN}/properties/orderId", lambda s: nullable(s)),
        [(N, "default-added", "input.orderId"), (N, "null-added", "input.orderId")],
    ),
    case(
        "type-removed-from-union",
        noop,
        [(B, "type-narrowed", "input.giftMessage")],
        old=edit(f"{GIFT}/anyOf", plus({"type": "integer"})),
    ),
    case(
        "type-added-to-union",
        edit(f"{GIFT}/anyOf", plus({"type": "integer"})),
        [(N, "type-widened", "input.giftMessage")],
    ),
    case(
        "discriminated-union-member-removed",
        also(with_payment, edit(f"{ORDER_IN}/properties/payment/oneOf", lambda ms: ms[:1])),
        [(B, "type-narrowed", "input.payment")],
        old=with_payment,
    ),
    case(
        "field-added-inside-one-union-member",
        also(
            with_payment,
            put(f"{DEFS}/Card/properties/cvc", {"type": "string"}),
            edit(f"{DEFS}/Card/required", plus("cvc")),
        ),
        [(B, "required-field-added", "input.payment<Card>.cvc")],
        old=with_payment,
    ),
    # enums and const
    case(
        "enum-value-removed",
        edit(f"{DEFS}/Tier/enum", without("platinum")),
        [(B, "enum-value-removed", "input.customer.tier")],
    ),
    case(
        "enum-value-added",
        edit(f"{DEFS}/Currency/enum", plus("JPY")),
        [(N, "enum-value-added", "input.currency")],
    ),
    case(
        "const-changed",
        put(f"{ORDER_IN}/properties/version", {"const": "v2", "type": "string"}),
        [(B, "const-changed", "input.version")],
        old=put(f"{ORDER_IN}/properties/version", {"const": "v1", "type": "string"}),
    ),
    # constraints
    case(
        "max-length-down",
        put(f"{GIFT}/anyOf/0/maxLength", 100),
        [(B, "constraint-tightened", "input.giftMessage")],
    ),
    case(
        "max-length-up",
        put(f"{GIFT}/anyOf/0/maxLength", 500),
        [(N, "constraint-relaxed", "input.giftMessage")],
    ),
    case(
        "min-items-up",
        put(f"{ORDER_IN}/properties/items/minItems", 2),
        [(B, "constraint-tightened", "input.items")],
    ),
    case(
        "max-items-removed",
        drop(f"{ORDER_IN}/properties/tags/maxItems"),
        [(N, "constraint-removed", "input.tags")],
    ),
    case(
        "minimum-up",
        put(f"{DEFS}/Item/properties/quantity/minimum", 2),
        [(B, "constraint-tightened", "input.items[].quantity")],
    ),
    case(
        "maximum-removed",
        drop(f"{DEFS}/Item/properties/quantity/maximum"),
        [(N, "constraint-removed", "input.items[].quantity")],
    ),
    case(
        "minimum-made-exclusive",
        also(drop(f"{UNIT_PRICE}/minimum"), put(f"{UNIT_PRICE}/exclusiveMinimum", 0)),
        [(B, "constraint-tightened", "input.items[].unitPrice")],
    ),
    case(
        "max-length-added",
        put(f"{EMAIL}/maxLength", 254),
        [(B, "constraint-added", "input.customer.email")],
    ),
    case(
        "pattern-changed",
        put(f"{ORDER_IN}/properties/orderId/pattern", "^ORD-[0-9]{6}$"),
        [(B, "constraint-changed", "input.orderId")],
    ),
    case(
        "pattern-added-through-nullable-ref",
        put(f"{DEFS}/Address/properties/city/pattern", "^[A-Za-z ]+$"),
        [(B, "constraint-added", "input.shippingAddress.city")],
    ),
    case(
        "pattern-removed",
        drop(f"{DEFS}/Item/properties/sku/pattern"),
        [(N, "constraint-removed", "input.items[].sku")],
    ),
    case(
        "multiple-of-to-a-multiple",
        put(f"{UNIT_PRICE}/multipleOf", 0.05),
        [(B, "constraint-tightened", "input.items[].unitPrice")],
    ),
    case(
        "multiple-of-to-a-divisor",
        put(f"{UNIT_PRICE}/multipleOf", 0.005),
        [(N, "constraint-relaxed", "input.items[].unitPrice")],
    ),
    case(
        "multiple-of-unrelated",
        put(f"{UNIT_PRICE}/multipleOf", 0.03),
        [(B, "constraint-changed", "input.items[].unitPrice")],
        old=put(f"{UNIT_PRICE}/multipleOf", 0.02),
    ),
    case(
        "format-added",
        put(f"{EMAIL}/format", "email"),
        [(B, "constraint-added", "input.customer.email")],
    ),
    case(
        "format-changed",
        put(f"{EMAIL}/format", "idn-email"),
        [(B, "constraint-changed", "input.customer.email")],
        old=put(f"{EMAIL}/format", "email"),
    ),
    case(
        "unique-items-added",
        put(f"{ORDER_IN}/properties/tags/uniqueItems", True),
        [(B, "constraint-added", "input.tags")],
    ),
    case(
        "additional-properties-closed",
        noop,
        [(B, "additional-properties-closed", "input.shippingAddress")],
        old=put(f"{DEFS}/Address/additionalProperties", True),
    ),
    case(
        "additional-properties-opened",
        put(f"{DEFS}/Customer/additionalProperties", True),
        [(N, "additional-properties-opened", "input.customer")],
    ),
    case(
        "unknown-keyword",
        put(f"{ORDER_IN}/properties/orderId/not", {"const": "ORD-0000"}),
        [(B, "keyword-changed", "input.orderId")],
    ),
    # annotations
    case(
        "default-changed",
        put(f"{ORDER_IN}/properties/expedite/default", True),
        [(N, "default-changed", "input.expedite")],
    ),
    case(
        "field-description-changed",
        put(f"{EMAIL}/description", "Receives the confirmation."),
        [(N, "description-changed", "input.customer.email")],
    ),
    # equivalent spellings
    case(
        "defs-entry-renamed-only",
        also(
            edit(DEFS, lambda d: {("Buyer" if k == "Customer" else k): v for k, v in d.items()}),
            put(f"{ORDER_IN}/properties/customer/$ref", "#/$defs/Buyer"),
        ),
        [],
    ),
    case(
        "ref-inlined",
        edit(f"{ORDER_IN}/properties/customer", lambda _: order_input()["$defs"]["Customer"]),
        [],
    ),
    case(
        "ref-wrapped-in-allof",
        put(f"{ORDER_IN}/properties/customer", {"allOf": [{"$ref": "#/$defs/Customer"}]}),
        [],
    ),
    case(
        "anyof-null-as-a-type-list",
        put(
            GIFT,
            {
                "default": None,
                "description": "Printed on the packing slip.",
                "maxLength": 200,
                "type": ["string", "null"],
            },
        ),
        [],
    ),
    case(
        "recursive-definition",
        also(with_category, put(f"{DEFS}/Category/properties/name/maxLength", 40)),
        [(B, "constraint-tightened", "input.category.name")],
        old=with_category,
    ),
    # outputs
    case(
        "output-field-removed",
        also(
            drop(f"{CONFIRMATION}/properties/total"),
            edit(f"{CONFIRMATION}/required", without("total")),
        ),
        [(B, "field-removed", "output.output.total")],
    ),
    case(
        "output-field-added",
        put(f"{CONFIRMATION}/properties/eta", {"format": "date", "type": "string"}),
        [(N, "field-added", "output.output.eta")],
    ),
    case(
        "output-type-changed",
        put(f"{CONFIRMATION}/properties/total/type", "string"),
        [(B, "type-changed", "output.output.total")],
    ),
    case(
        "output-type-widened",
        put(f"{CONFIRMATION}/properties/itemCount/type", "number"),
        [(B, "type-widened", "output.output.itemCount")],
    ),
    case(
        "output-type-narrowed",
        put(f"{CONFIRMATION}/properties/total/type", "integer"),
        [(N, "type-narrowed", "output.output.total")],
    ),
    case(
        "output-field-no-longer-required",
        edit(f"{CONFIRMATION}/required", without("total")),
        [(B, "field-no-longer-required", "output.output.total")],
    ),
    case(
        "output-field-now-nullable",
        edit(f"{CONFIRMATION}/properties/total", lambda s: {"anyOf": [s, {"type": "null"}]}),
        [(B, "null-added", "output.output.total")],
    ),
    case(
        "output-enum-value-added",
        edit(f"{ORDER_OUT}/$defs/ExecutionStatus/enum", plus("PENDING_REDRIVE")),
        [(B, "enum-value-added", "output.status")],
    ),
    case(
        "output-enum-value-removed",
        edit(f"{ORDER_OUT}/$defs/ExecutionStatus/enum", without("ABORTED")),
        [(N, "enum-value-removed", "output.status")],
    ),
    case(
        "output-constraint-removed",
        drop(f"{CONFIRMATION}/properties/orderId/pattern"),
        [(B, "constraint-removed", "output.output.orderId")],
    ),
    case(
        "untyped-output-becomes-typed",
        put("support_triage/outputSchema", order_output()),
        [(N, "type-narrowed", "output.output"), (N, "title-changed", "output.output")],
    ),
    case(
        "any-json-output-becomes-typed",
        put("support_triage/outputSchema", order_output()),
        [(N, "type-narrowed", "output.output"), (N, "title-changed", "output.output")],
        old=put("support_triage/outputSchema/properties/output", ANY_JSON),
    ),
    case(
        "typed-output-becomes-any-json",
        put("order_processing/outputSchema/properties/output", ANY_JSON),
        [(B, "type-widened", "output.output"), (N, "title-changed", "output.output")],
    ),
    case(
        "output-schema-removed",
        put("get_execution/outputSchema", None),
        [(B, "output-schema-removed", "output")],
    ),
    # allOf parts are intersected, not the first part's keyword kept
    case(
        "allof-maximums-take-the-tightest",
        put(f"{CONFIRMATION}/properties/x", {"maximum": 8, "type": "integer"}),
        [(B, "constraint-relaxed", "output.output.x")],
        old=put(
            f"{CONFIRMATION}/properties/x",
            {"allOf": [{"maximum": 10, "type": "integer"}, {"maximum": 5}]},
        ),
    ),
    case(
        "allof-minimums-and-lengths-take-the-tightest",
        put(f"{EMAIL}/minLength", 3),
        [(N, "constraint-relaxed", "input.customer.email")],
        old=put(f"{EMAIL}/allOf", [{"minLength": 2}, {"minLength": 5}]),
    ),
    case(
        "allof-properties-merged-recursively",
        put(f"{CONFIRMATION}/properties/detail", {"properties": {"x": {"type": "integer"}}}),
        [(B, "type-changed", "output.output.detail.x")],
        old=put(
            f"{CONFIRMATION}/properties/detail",
            {
                "allOf": [
                    {"properties": {"x": {"type": "string"}}},
                    {"properties": {"x": {"maxLength": 3}}},
                ]
            },
        ),
    ),
    case(
        "allof-required-united-properties-merged",
        put(
            f"{CONFIRMATION}/properties/detail",
            {
                "properties": {"a": {"maxLength": 3, "type": "string"}, "b": {"type": "string"}},
                "required": ["a", "b"],
                "type": "object",
            },
        ),
        [],
        old=put(
            f"{CONFIRMATION}/properties/detail",
            {
                "allOf": [
                    {"properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"a": {"maxLength": 3}, "b": {"type": "string"}}},
                    {"required": ["b"], "type": "object"},
                ]
            },
        ),
    ),
    case(
        "allof-enums-intersected",
        put(f"{CONFIRMATION}/properties/x", {"enum": ["b", "c", "d"], "type": "string"}),
        [(B, "enum-value-added", "output.output.x")],
        old=put(
            f"{CONFIRMATION}/properties/x",
            {"allOf": [{"enum": ["a", "b", "c"], "type": "string"}, {"enum": ["b", "c", "d"]}]},
        ),
    ),
    case(
        "allof-siblings-intersected-with-the-parts",
        put(f"{DEFS}/Item/properties/quantity/maximum", 50),
        [(N, "constraint-relaxed", "input.items[].quantity")],
        old=put(f"{DEFS}/Item/properties/quantity/allOf", [{"maximum": 20}]),
    ),
    case(
        "allof-closed-part-forbids-the-other-parts-fields",
        put(
            f"{ORDER_IN}/properties/note",
            {
                "additionalProperties": False,
                "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "type": "object",
            },
        ),
        # b could not be sent before (the first part allows only a): a "not" nobody classifies
        [(B, "keyword-changed", "input.note.b")],
        old=put(
            f"{ORDER_IN}/properties/note",
            {
                "allOf": [
                    {"additionalProperties": False, "properties": {"a": {"type": "string"}}},
                    {"properties": {"b": {"type": "string"}}},
                ],
                "type": "object",
            },
        ),
    ),
    # unions of look-alike members and numbers compared by value
    case(
        "anyof-untitled-objects-reordered",
        put(f"{CONFIRMATION}/properties/x", {"anyOf": UNTITLED_OBJECTS[::-1]}),
        [],
        old=put(f"{CONFIRMATION}/properties/x", {"anyOf": UNTITLED_OBJECTS}),
    ),
    case(
        "anyof-untitled-variants-of-one-field-reordered",
        put(f"{ORDER_IN}/properties/x", {"anyOf": UNTITLED_VARIANTS[::-1]}),
        [],
        old=put(f"{ORDER_IN}/properties/x", {"anyOf": UNTITLED_VARIANTS}),
    ),
    case(
        "anyof-untitled-object-changed-and-reordered",
        put(
            f"{ORDER_IN}/properties/x",
            {
                "anyOf": [
                    {"properties": {"b": {"const": 2}}, "type": "object"},
                    {"properties": {"a": {"const": 1}, "c": {"type": "string"}}, "type": "object"},
                ]
            },
        ),
        [(N, "field-added", "input.x<object>.c")],
        old=put(
            f"{ORDER_IN}/properties/x",
            {
                "anyOf": [
                    {"properties": {"a": {"const": 1}}, "type": "object"},
                    {"properties": {"b": {"const": 2}}, "type": "object"},
                ]
            },
        ),
    ),
    case(
        "enum-numbers-compared-by-value",
        put(f"{CONFIRMATION}/properties/itemCount/enum", [1.0, 2, 2.5]),
        [],
        old=put(f"{CONFIRMATION}/properties/itemCount/enum", [1, 2.0, 2.5]),
    ),
    case(
        "const-true-is-not-one",
        put(f"{ORDER_IN}/properties/flags", {"const": [1], "type": "array"}),
        [(B, "const-changed", "input.flags")],
        old=put(f"{ORDER_IN}/properties/flags", {"const": [True], "type": "array"}),
    ),
    case(
        "status-tool-description",
        put("get_execution/description", "Status of an execution."),
        [(N, "description-changed", "description")],
    ),
]


@pytest.mark.parametrize(("old_mutation", "new_mutation", "expected"), CASES)
def test_classification(
    old_mutation: Mutation, new_mutation: Mutation, expected: list[tuple[str, str, str]]
) -> None:
    old, new = base_surface(), base_surface()
    old_mutation(old)
    new_mutation(new)
    changes = compare(parse_surface(old, label="old"), parse_surface(new, label="new"))
    got = sorted((c.severity, c.code, c.path) for c in changes)
    assert got == sorted(expected), "\n".join(f"{c.tool}: {c.path}: {c.message}" for c in changes)
    assert all(c.message and "\n" not in c.message for c in changes)


def test_at_least_thirty_classification_cases() -> None:
    assert len(CASES) >= 30


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
    with pytest.raises(CompileError, match="does not resolve"):
        compare(parse_surface(base_surface(), label="a"), parse_surface(new, label="b"))


def test_a_self_referencing_definition_terminates() -> None:
    surface = base_surface()
    put(f"{DEFS}/Loop", {"$ref": "#/$defs/Loop"})(surface)
    put(f"{ORDER_IN}/properties/loop", {"$ref": "#/$defs/Loop"})(surface)
    assert compare(parse_surface(surface, label="a"), parse_surface(surface, label="b")) == []


# -- loading -------------------------------------------------------------------------------------


def write_surface(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"surfaceFormat": 2, "tools": []}', "surfaceFormat 2; this sfn-mcp reads format 1"),
        ('{"tools": []}', "is not an sfn-mcp tool surface"),
        ('{"surfaceFormat": 1, "tools": [{"name": "a"}, {"name": "a"}]}', "appears twice"),
    ],
)
def test_bad_files_are_compile_errors_with_hints(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "surface.json"
    path.write_text(content)
    with pytest.raises(CompileError, match=message) as info:
        load_surface(str(path), manifest_path=path)
    assert info.value.hint


def test_a_package_directory_is_read_through_its_surface_json(tmp_path: Path) -> None:
    write_surface(tmp_path / "pkg" / "surface.json", base_surface())
    surface = load_surface(str(tmp_path / "pkg"), manifest_path=tmp_path / "x.json")
    assert sorted(surface.tools) == ["get_execution", "order_processing", "support_triage"]
    assert surface.label.endswith("surface.json")
    # the output folder holding one package reads as that package
    outer = load_surface(str(tmp_path), manifest_path=tmp_path / "x.json")
    assert sorted(outer.tools) == sorted(surface.tools)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompileError, match="without surface.json"):
        load_surface(str(tmp_path / "empty"), manifest_path=tmp_path / "x.json")


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


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with three commits: no surface yet, surface v1, surface v2 (tagged v2)."""
    for variable in list(os.environ):
        if variable.startswith("GIT_"):  # e.g. GIT_DIR and GIT_INDEX_FILE inside a git hook
            monkeypatch.delenv(variable)
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "sfn-mcp.toml").write_text('name = "ai_workflows"\noutput = "generated"\n')
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before the surface")
    manifest = root / "generated" / "ai_workflows" / "surface.json"
    write_surface(manifest, base_surface())
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    v2 = base_surface()
    edit(f"{DEFS}/Tier/enum", without("platinum"))(v2)
    add_tool(DAILY_ETL)(v2)
    write_surface(manifest, v2)
    git(root, "commit", "-q", "-am", "v2")
    git(root, "tag", "v2")
    return root


def run_diff(*args: str) -> Any:
    return CliRunner().invoke(diff, list(args))


def test_git_revisions(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(repo / "sfn-mcp.toml")
    result = run_diff("HEAD~1", "HEAD", "--config", config, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["old"] == "HEAD~1:generated/ai_workflows/surface.json"
    assert [(c["tool"], c["code"]) for c in report["changes"]] == [
        ("daily_etl", "tool-added"),
        ("order_processing", "enum-value-removed"),
    ]
    assert report["breaking"] is True

    # a revision before the manifest existed: every tool is added, and a note says why
    result = run_diff("HEAD~2", "v2", "--config", config)
    assert result.exit_code == 0, result.output
    assert "note: HEAD~2 has no generated/ai_workflows/surface.json" in result.stdout
    assert result.stdout.count("[tool-added]") == 4
    assert result.stdout.endswith("0 breaking, 4 non-breaking changes\n")

    # NEW left out: the working tree, uncommitted changes included; from a subfolder, too
    manifest = repo / "generated" / "ai_workflows" / "surface.json"
    current = json.loads(manifest.read_text())
    current["tools"] = current["tools"][1:]
    write_surface(manifest, current)
    monkeypatch.chdir(repo / "generated")
    result = run_diff("main", "--manifest", str(manifest))
    assert result.exit_code == 0, result.output
    assert "[tool-removed]" in result.stdout
    assert "(working tree)" in result.stdout


def test_git_errors_exit_2_with_a_hint(repo: Path, tmp_path: Path) -> None:
    config = str(repo / "sfn-mcp.toml")
    result = run_diff("no-such-branch", "HEAD", "--config", config)
    assert result.exit_code == 2
    assert "error: 'no-such-branch' is neither an existing file or directory nor a revision" in (
        result.stderr
    )
    assert "hint: " in result.stderr
    assert "Traceback" not in result.output

    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    result = run_diff("main", "--manifest", str(elsewhere / "surface.json"))
    assert result.exit_code == 2
    assert "is not in a git repository" in result.stderr

    manifest = repo / "generated" / "ai_workflows" / "surface.json"
    manifest.write_text("<<<<<<< HEAD\n")
    git(repo, "commit", "-q", "-am", "broken")
    result = run_diff("HEAD", "HEAD~1", "--config", config)
    assert result.exit_code == 2
    assert "error: HEAD:generated/ai_workflows/surface.json is not valid JSON" in result.stderr
    assert "hint: regenerate it" in result.stderr


def test_a_path_wins_over_a_revision_of_the_same_name(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    git(repo, "branch", "v1", "HEAD~1")
    # v2 is a tag, and also a folder holding a surface with the status tool only
    v2 = base_surface()
    v2["tools"] = v2["tools"][:1]
    write_surface(repo / "v2" / "surface.json", v2)
    result = run_diff("v1", "v2", "--config", str(repo / "sfn-mcp.toml"))
    assert result.exit_code == 0, result.output
    assert "-> v2/surface.json" in result.stdout
    assert result.stdout.count("[tool-removed]") == 2
    result = run_diff("v1", "v2^{commit}", "--config", str(repo / "sfn-mcp.toml"))
    assert "[tool-added]" in result.stdout


# -- exit codes ----------------------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> Callable[[Mutation], tuple[str, str]]:
    def make(mutation: Mutation) -> tuple[str, str]:
        new = base_surface()
        mutation(new)
        old_path = write_surface(tmp_path / "old.json", base_surface())
        new_path = write_surface(tmp_path / "new.json", new)
        return str(old_path), str(new_path)

    return make


@pytest.mark.parametrize(
    ("mutation", "fail_on", "exit_code"),
    [
        (edit(f"{DEFS}/Tier/enum", without("gold")), None, 0),
        (edit(f"{DEFS}/Tier/enum", without("gold")), "none", 0),
        (edit(f"{DEFS}/Tier/enum", without("gold")), "breaking", 1),
        (edit(f"{DEFS}/Tier/enum", plus("silver")), "breaking", 0),
        (edit(f"{DEFS}/Tier/enum", plus("silver")), "any", 1),
        (noop, "any", 0),
    ],
    ids=["default-none", "none", "breaking", "compatible-only", "any", "nothing"],
)
def test_fail_on(
    pair: Callable[[Mutation], tuple[str, str]],
    mutation: Mutation,
    fail_on: str | None,
    exit_code: int,
) -> None:
    old, new = pair(mutation)
    args = [old, new] + (["--fail-on", fail_on] if fail_on else [])
    result = run_diff(*args)
    assert result.exit_code == exit_code, result.output
    if exit_code == 1:
        assert f"(--fail-on {fail_on})" in result.stderr


def test_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"surfaceFormat": 9}')
    result = run_diff(str(bad), str(bad), "--manifest", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    good = write_surface(tmp_path / "good.json", base_surface())
    result = run_diff(str(good), "--manifest", str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert "missing.json does not exist" in result.stderr
    assert "hint: run `sfn-mcp generate` first" in result.stderr


# -- renderers and snapshots ---------------------------------------------------------------------


def snapshot_pair() -> tuple[Surface, Surface]:
    new = base_surface()
    also(
        edit(f"{DEFS}/Tier/enum", without("platinum")),
        put(f"{GIFT}/anyOf/0/maxLength", 100),
        put(f"{ORDER_IN}/properties/expedite/default", True),
        put("order_processing/stateMachine/definitionSha256", "b" * 64),
        put("order_processing/description", "Prices the order | reserves stock.\nThen ships it."),
        put("support_triage/name", "triage_ticket"),
        put(f"{CONFIRMATION}/properties/total/type", "string"),
        edit("/tools", lambda ts: [t for t in ts if t["name"] != "get_execution"]),
        add_tool(DAILY_ETL),
    )(new)
    old = parse_surface(base_surface(), label="main:generated/ai_workflows/surface.json")
    return old, parse_surface(new, label="generated/ai_workflows/surface.json")


RENDERERS = [("diff.txt", render_text), ("diff.md", render_markdown), ("diff.json", render_json)]


@pytest.mark.parametrize(("name", "render"), RENDERERS, ids=[name for name, _ in RENDERERS])
def test_snapshots(name: str, render: Callable[..., str]) -> None:
    old, new = snapshot_pair()
    rendered = render(compare(old, new), old=old, new=new)
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run UPDATE_SNAPSHOTS=1 pytest tests/test_diff.py")
    expected = path.read_text(encoding="utf-8")
    if rendered != expected:
        delta = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                rendered.splitlines(keepends=True),
                f"{path} (snapshot)",
                "rendered",
            )
        )
        pytest.fail(
            f"the rendered {name} differs from {path}; if the change is intended, rerun with "
            f"UPDATE_SNAPSHOTS=1 and review the snapshot's diff:\n{delta}",
            pytrace=False,
        )


def test_empty_renderings() -> None:
    assert render_text([]) == "No changes to the tool surface.\n"
    assert "## ✅ Tool surface: No changes to the tool surface." in render_markdown([])
    assert json.loads(render_json([])) == {
        "breaking": False,
        "summary": {"breaking": 0, "nonBreaking": 0, "total": 0, "tools": []},
        "changes": [],
    }


def test_markdown_cells_are_escaped() -> None:
    change = Change("t", B, "x", "input.a|b", "one | two\nthree <b>four</b> *five*")
    table_row = render_markdown([change]).splitlines()[-1]
    assert table_row == (
        r"| 💥 breaking | x | `input.a\|b` | one \| two<br>three &lt;b>four&lt;/b> \*five\* |"
    )
