"""The infer stage: machines that have no input schema get one inferred from their definition.

Precedence, per workflow (in ``[tool.sfn-mcp.workflows."<machine>"]``): a registry schema always
wins; then the configuration's ``schema-file``; then the input is inferred from the definition;
then any JSON object. ``input = "schema"`` never infers (no schema means free-form),
``input = "inferred"`` infers even over a registry schema or file, ``input = "free-form"`` takes
any JSON object. A machine whose schema tag is there but
unusable is not inferred: its warning says why it is untyped, and the tag should be fixed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

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


FILE = "file"  # the registry name of a schema read from a file given in the configuration


def schema_file(machine: MachineSource, path: str, diagnostics: Diagnostics) -> SchemaSource | None:
    """The schema of the configuration's ``schema-file``, or an error naming the setting."""
    where = f'[tool.sfn-mcp.workflows."{machine.name}"] schema-file'
    try:
        content = Path(path).read_text(encoding="utf-8")
        document = json.loads(content)
    except (OSError, ValueError) as exc:
        diagnostics.error(
            f"{where}: cannot read {path} as JSON: {exc}",
            hint="give the path of a JSON Schema or OpenAPI document, relative to the "
            "configuration file",
        )
        return None
    kind = (
        "OpenApi3" if isinstance(document, dict) and "openapi" in document else "JSONSchemaDraft4"
    )
    region = machine.arn.split(":")[3] if machine.arn.count(":") >= 5 else ""
    return SchemaSource(
        ref=SchemaRef(f"{FILE}:{path}", region, FILE, Path(path).stem),
        version=hashlib.sha256(content.encode()).hexdigest()[:12],
        type=kind,
        content=content,
        description="",
    )


def apply_inference(
    settings: Settings, machines: list[MachineSource], diagnostics: Diagnostics
) -> list[MachineSource]:
    result = []
    for machine in machines:
        workflow = settings.workflows.get(machine.name, WorkflowSettings())
        mode = workflow.input
        tagged = bool(settings.schema_tag_key and settings.schema_tag_key in machine.tags)
        if mode == "free-form":
            machine = replace(machine, schema=None)
        elif workflow.schema_file and machine.schema is None and mode != "inferred":
            machine = replace(
                machine, schema=schema_file(machine, workflow.schema_file, diagnostics)
            )
        elif mode == "inferred" or (mode is None and machine.schema is None and not tagged):
            machine = replace(
                machine, schema=inferred_schema(machine, settings.prefix, diagnostics)
            )
        result.append(machine)
    return result
