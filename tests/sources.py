"""Hand-built read records, for tests of the stages after read (no AWS needed)."""

from __future__ import annotations

import json

from sfn_mcp import ir
from sfn_mcp.diagnostics import Diagnostic, Diagnostics
from sfn_mcp.models import generate_models
from sfn_mcp.read.records import MachineSource, SchemaRef, SchemaSource
from sfn_mcp.settings import Settings

ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:"
SCHEMA_ARN = "arn:aws:schemas:us-east-1:000000000000:schema/"

ORDER_PLACED = {
    "openapi": "3.0.0",
    "info": {"version": "1.0.0", "title": "OrderPlaced"},
    "paths": {},
    "components": {
        "schemas": {
            "AWSEvent": {
                "type": "object",
                "required": ["detail-type", "detail", "source"],
                "x-amazon-events-detail-type": "OrderPlaced",
                "x-amazon-events-source": "com.example.shop",
                "properties": {
                    "detail": {"$ref": "#/components/schemas/OrderPlaced"},
                    "detail-type": {"type": "string"},
                    "source": {"type": "string"},
                },
            },
            "OrderPlaced": {
                "type": "object",
                "description": "A customer placed an order.",
                "required": ["orderId", "items", "currency"],
                "properties": {
                    "orderId": {
                        "type": "string",
                        "pattern": "^ORD-[0-9]{4,10}$",
                        "description": "Order identifier.",
                    },
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/components/schemas/Address"},
                    },
                    "currency": {"type": "string", "enum": ["USD", "EUR"], "description": "ISO"},
                    "giftMessage": {"type": "string", "maxLength": 200},
                    "class": {"type": "string"},
                },
            },
            "Address": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
            },
        }
    },
}

SHIPMENT = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Shipment",
    "type": "object",
    "required": ["shipmentId"],
    "properties": {
        "shipmentId": {"type": "string", "description": "Shipment id."},
        "weight": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        "address": {"$ref": "#/definitions/Address"},
        "express": {"type": "boolean", "default": False},
    },
    "definitions": {
        "Address": {"type": "object", "properties": {"street": {"type": "string"}}},
    },
}


def schema(
    name: str, document: object, kind: str = "OpenApi3", version: str = "1", registry: str = "shop"
) -> SchemaSource:
    return SchemaSource(
        ref=SchemaRef(f"{SCHEMA_ARN}{registry}/{name}", "us-east-1", registry, name),
        version=version,
        type=kind,
        content=json.dumps(document),
        description="",
    )


def machine(
    name: str,
    *,
    kind: str = "STANDARD",
    comment: str = "",
    source: SchemaSource | None = None,
) -> MachineSource:
    definition = json.dumps({"Comment": comment, "StartAt": "A", "States": {}})
    return MachineSource(name, ARN + name, kind, definition, comment, {}, source)


def example_machines() -> list[MachineSource]:
    return [
        machine(
            "shop-order-placed",
            comment="Processes an order.",
            source=schema("com.example.shop@OrderPlaced", ORDER_PLACED),
        ),
        machine(
            "shop-ship",
            kind="EXPRESS",
            source=schema("Shipment", SHIPMENT, kind="JSONSchemaDraft4", version="3"),
        ),
        machine("shop-free", comment="No schema here."),
    ]


def build_ir(
    settings: Settings, machines: list[MachineSource]
) -> tuple[ir.Package, list[Diagnostic]]:
    """The models and IR stages, as the pipeline runs them: errors raise, warnings are returned."""
    diagnostics = Diagnostics()
    package = ir.build(settings, machines, generate_models(machines, diagnostics), diagnostics)
    diagnostics.raise_errors(strict=settings.strict)
    return package, list(diagnostics)


def example_records() -> list[MachineSource]:
    """The four examples as the repository's configuration reads them from
    ``examples/template.yaml`` (no AWS)."""
    from pathlib import Path

    from sfn_mcp.read.repository import read_repository
    from sfn_mcp.settings import load_settings

    root = Path(__file__).parents[1]
    settings = load_settings({}, config_path=root / "pyproject.toml", env={}, cwd=root)
    diagnostics = Diagnostics()
    records = read_repository(settings, diagnostics)
    diagnostics.raise_errors(strict=False)
    return records
