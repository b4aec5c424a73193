"""The infer stage: machines that have no input schema get one inferred from their definition.

Precedence, per workflow (``input`` in ``[tool.sfn-mcp.workflows."<machine>"]``): a registry
schema always wins; without one, the input is inferred from the definition; ``input = "schema"``
never infers (no schema means free-form), ``input = "inferred"`` infers even over a registry
schema, ``input = "free-form"`` takes any JSON object. A machine whose schema tag is there but
unusable is not inferred: its warning says why it is untyped, and the tag should be fixed.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sfn_mcp.diagnostics import Diagnostics
from sfn_mcp.infer.inference import infer_input
from sfn_mcp.naming import strip_prefix
from sfn_mcp.read.records import INFERRED, MachineSource, SchemaRef, SchemaSource
from sfn_mcp.settings import Settings, WorkflowSettings


def inferred_schema(
    machine: MachineSource, prefix: str, diagnostics: Diagnostics
) -> SchemaSource | None:
    """The schema inferred from ``machine``'s definition, as a schema source, or None."""
    inference = infer_input(machine.definition)
    diagnostics.extend(inference.diagnostics(machine.name))
    if inference.schema is None:
        return None
    content = inference.schema_json()
    words = strip_prefix(machine.name, prefix) or machine.name
    region = machine.arn.split(":")[3] if machine.arn.count(":") >= 5 else ""
    return SchemaSource(
        # named after the tool's words, so the model is <Tool>Input in models/<tool>_input.py
        ref=SchemaRef(f"{INFERRED}:{machine.arn}", region, INFERRED, f"{words}-input"),
        version=hashlib.sha256(content.encode()).hexdigest()[:12],
        type="JSONSchemaDraft4",  # read as JSON Schema; the document says 2020-12 itself
        content=content,
        description="",
    )


def apply_inference(
    settings: Settings, machines: list[MachineSource], diagnostics: Diagnostics
) -> list[MachineSource]:
    result = []
    for machine in machines:
        mode = settings.workflows.get(machine.name, WorkflowSettings()).input
        tagged = bool(settings.schema_tag_key and settings.schema_tag_key in machine.tags)
        if mode == "free-form":
            machine = replace(machine, schema=None)
        elif mode == "inferred" or (mode is None and machine.schema is None and not tagged):
            machine = replace(
                machine, schema=inferred_schema(machine, settings.prefix, diagnostics)
            )
        result.append(machine)
    return result
