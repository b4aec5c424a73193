"""Stage 4, the IR: every decision about the package (names, collisions, input modes,
descriptions, hints, which model class a tool takes), made in Python from the read records and
the generated models, with errors that name the machine or schema.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace

from sfn_mcp import __version__
from sfn_mcp.diagnostics import CompileError, Diagnostics
from sfn_mcp.infer import infer_hints
from sfn_mcp.ir.approvals import ApprovalStep, approval_steps
from sfn_mcp.ir.names import tool_names
from sfn_mcp.ir.tags import HINT_TAGS, Tagged, read_tags
from sfn_mcp.ir.types import Hints, Mode, ModelModule, Package, Tool, ToolInput, ToolOutput
from sfn_mcp.models import GeneratedModel, ModelKey
from sfn_mcp.models import schemas_of as model_schemas
from sfn_mcp.naming import python_identifier, snake_case, strip_prefix, title
from sfn_mcp.read.records import MachineSource, Role, SchemaSource
from sfn_mcp.settings import Settings, WorkflowSettings
from sfn_mcp_runtime.contract import (
    ANSWER_TOOL,
    IDEMPOTENCY_ARGUMENT,
    STATUS_TOOL,
    TOOLS_IMPORTS,
    definition_digest,
)

# Names that tools.py defines or imports; a tool function must not shadow them.
RESERVED = frozenset(TOOLS_IMPORTS) | {"annotations", "Any", "TOOLS", "models"}


def _module_names(schemas: Mapping[ModelKey, SchemaSource]) -> dict[ModelKey, str]:
    """One module per schema version and role, named by the shortest candidate that no other
    module wants at the same level and that is not taken yet; a hash is the last resort."""
    unique = sorted(schemas.items())
    wanted: dict[ModelKey, list[str]] = {}
    for key, s in unique:
        role = key[2]
        names = [
            python_identifier(snake_case(text) or "schema")
            for text in (
                s.ref.name.split("@")[-1],
                f"{s.ref.registry}_{s.ref.name}",
                f"{s.ref.registry}_{s.ref.name}_{role}",
                f"{s.ref.registry}_{s.ref.name}_{role}_v{s.version}",
            )
        ]
        digest = hashlib.sha256(f"{s.ref.arn}@{s.version}/{role}".encode()).hexdigest()[:8]
        wanted[key] = [*names, f"{names[-1]}_{digest}"]
    result: dict[ModelKey, str] = {}
    for level in range(5):
        pending = [key for key, _ in unique if key not in result]
        counts = Counter(wanted[key][level] for key in pending)
        for key in pending:
            name = wanted[key][level]
            if (counts[name] == 1 or level == 4) and name not in result.values():
                result[key] = name
    if len(result) != len(unique):  # only if two sha256 prefixes collide as well
        raise CompileError("internal error: could not give every schema its own module name")
    return result


def _functions(tools: list[str]) -> dict[str, str]:
    """Python function names for tool names: a suffix keeps keywords, builtins and the names
    tools.py imports free, and a hash two functions apart if suffixing made them meet."""
    wanted = {name: python_identifier(name, RESERVED) for name in tools}
    functions = {name: name for name in tools if wanted[name] == name}  # as-is names first
    for name in sorted(set(tools) - set(functions)):
        function = wanted[name]
        if function in functions.values():
            function = f"{function}_{hashlib.sha256(name.encode()).hexdigest()[:8]}"
        functions[name] = function
    return functions


def _input(
    machine: MachineSource,
    model: GeneratedModel | None,
    module: str | None,
    override: WorkflowSettings,
    diagnostics: Diagnostics,
    schema_tagged: bool,
) -> ToolInput:
    where = f"[tool.sfn-mcp.workflows.{machine.name!r}] input-mode"
    if model is None or module is None:
        if override.input_mode and machine.schema is None:
            diagnostics.warning(
                f"{where}: {machine.name!r} has no input schema, so input-mode is ignored"
            )
        reason = "unusable schema" if schema_tagged else "no schema tag"
        return ToolInput("FreeFormInput", module=None, mode="free-form", untyped_reason=reason)
    if model.event is None:
        if override.input_mode:
            diagnostics.warning(
                f"{where} applies to EventBridge event schemas, but the schema of "
                f"{machine.name!r} has no AWSEvent envelope with x-amazon-events-source and "
                "x-amazon-events-detail-type; its input is passed as it is"
            )
        return ToolInput(model_class=model.root_class, module=module, mode="plain")
    mode: Mode = override.input_mode or "envelope"
    return ToolInput(
        model_class=model.root_class,
        module=module,
        mode=mode,
        event_source=model.event.source,
        event_detail_type=model.event.detail_type,
    )


def describe(
    machine: MachineSource,
    model: GeneratedModel | None,
    tool_input: ToolInput,
    wait: float,
    *,
    summary: str | None = None,
    stop_on_cancel: bool = False,
    approvals: tuple[ApprovalStep, ...] = (),
    confirm: bool = False,
) -> str:
    """Tool description: the configured text or the definition's Comment, the schema's
    description, and how the tool runs (kept even when the text is configured: it is what the
    generator knows to be true)."""
    parts = [
        summary or machine.comment or f"Runs the AWS Step Functions state machine {machine.name}."
    ]
    if model and model.description:
        parts.append(f"Input: {model.description}")
    if tool_input.mode == "free-form":
        why = (
            "its input schema could not be used"
            if tool_input.untyped_reason == "unusable schema"
            else "no input schema is registered for this workflow"
        )
        parts.append(f"Input: any JSON object ({why}).")
    elif tool_input.mode == "envelope":
        parts.append(
            "The arguments are the event detail; the server wraps them in an EventBridge event "
            f"(source {tool_input.event_source}, detail-type {tool_input.event_detail_type})."
        )
    if machine.type == "EXPRESS":
        parts.append(
            f"Runs the EXPRESS workflow {machine.name} synchronously (at most 5 minutes) and "
            "returns its status and output."
        )
    else:
        cancel = "stops the execution" if stop_on_cancel else "leaves the execution running in AWS"
        parts.append(
            f"Starts the STANDARD workflow {machine.name} and waits for its result (up to "
            f"{wait:g} s as generated); a longer run returns status RUNNING with the execution "
            f"ARN, which {STATUS_TOOL} follows up. Give {IDEMPOTENCY_ARGUMENT} to make a retry "
            f"return the same execution instead of starting another. Cancelling the call {cancel}."
        )
    for step in approvals:
        parts.append(
            f"It waits for a person at step {step.state} ({step.question}): a client that can "
            f"ask the user does so while the call or task waits; otherwise the result says it "
            f"waits, and {ANSWER_TOOL} sends the user's answer."
        )
    if confirm:
        parts.append("Each run needs the user's confirmation first (the client asks them).")
    return "\n\n".join(parts)


def _title(machine: MachineSource, name: str, prefix: str) -> str:
    """The tool name in words, spelt as the machine's name spells them where the name is the
    machine's in ASCII (``prüfen-bestellung`` → "Prüfen bestellung"), else as the definition's
    Comment does; a name made up for want of letters has the machine's name as its title."""
    words = strip_prefix(machine.name, prefix)
    if snake_case(words) == name:
        spelt = " ".join(part for part in re.split(r"[^\w]+|_", words) if part)
        if spelt and not spelt.isascii():
            return spelt[:1].upper() + spelt[1:]
    if not snake_case(words):
        return words.strip() or machine.name
    return title(name, machine.comment)


INFERRED_HINTS = {"read_only": "readOnlyHint", "destructive": "destructiveHint",
                  "open_world": "openWorldHint"}  # fmt: skip


def _hints(
    machine: MachineSource, tagged: Tagged, override: WorkflowSettings
) -> tuple[Hints, tuple[str, ...]]:
    """Configuration over tags over what the definition shows over the defaults (a read-only
    workflow is not destructive); with the reason for each hint the definition decided."""
    chosen: dict[str, bool] = {}
    for field in HINT_TAGS:
        configured = getattr(override, field)
        value = configured if configured is not None else tagged.hints.get(field)
        if value is not None:
            chosen[field] = value
    if chosen.get("read_only") and "destructive" not in chosen:
        chosen["destructive"] = False  # said read-only: the definition is not asked
    inferred = infer_hints(machine.definition, machine.arn)
    reasons = []
    for field, name in INFERRED_HINTS.items():
        if field not in chosen:
            hint = getattr(inferred, field)
            chosen[field] = hint.value
            reasons.append(f"{name}={str(hint.value).lower()}: {hint.reason}")
    return Hints(**chosen), tuple(reasons)


def _check_overrides(
    machine: MachineSource, override: WorkflowSettings, settings: Settings, diagnostics: Diagnostics
) -> WorkflowSettings:
    """Per-workflow settings that cannot apply are named and dropped."""
    where = f"[tool.sfn-mcp.workflows.{machine.name!r}]"
    if override.stop_on_cancel and machine.type == "EXPRESS":
        diagnostics.warning(
            f"{where} stop-on-cancel: {machine.name!r} is an EXPRESS workflow, which Step "
            "Functions cannot stop once started synchronously; the setting is ignored"
        )
        override = replace(override, stop_on_cancel=None)
    for key, tag_key in (
        ("schema_version", settings.schema_tag_key),
        ("output_schema_version", settings.output_schema_tag_key),
    ):
        if getattr(override, key) and (not tag_key or tag_key not in machine.tags):
            diagnostics.warning(
                f"{where} {key.replace('_', '-')}: {machine.name!r} has no schema tag "
                f"{tag_key or '(no tag key is configured)'} to pin; the setting is ignored"
            )
            override = replace(override, **{key: None})
    return override


def _check_idempotency_argument(
    machine: MachineSource, model: GeneratedModel | None, diagnostics: Diagnostics
) -> bool:
    if machine.type == "STANDARD" and model and IDEMPOTENCY_ARGUMENT in model.properties:
        diagnostics.error(
            f"state machine {machine.name!r}: its input has a field {IDEMPOTENCY_ARGUMENT!r}, "
            "which STANDARD tools reserve for the idempotency key",
            hint="rename the field in the schema",
        )
        return False
    return True


def build(
    settings: Settings,
    machines: list[MachineSource],
    models: Mapping[ModelKey, GeneratedModel],
    diagnostics: Diagnostics,
    *,
    previous: Mapping[str, str] | None = None,
) -> Package:
    """The package IR. Every machine becomes a tool, or an error in ``diagnostics`` that names
    it; ``previous`` (state machine ARN → tool name, from the committed package) keeps names
    stable when new machines collide with them."""
    machines = sorted(machines, key=lambda m: m.name)
    for m in machines:
        if m.type not in ("STANDARD", "EXPRESS"):
            diagnostics.error(
                f"state machine {m.name!r} has type {m.type!r}; expected STANDARD or EXPRESS"
            )
    machines = [m for m in machines if m.type in ("STANDARD", "EXPRESS")]
    schema_tags = frozenset(
        k for k in (settings.schema_tag_key, settings.output_schema_tag_key) if k
    )
    tagged = {m.name: read_tags(m, schema_tags, diagnostics) for m in machines}
    names = tool_names(machines, settings, tagged, previous or {}, diagnostics)
    functions = _functions(list(names.values()))
    schemas = {key: s for key, s in model_schemas(machines).items() if key in models}
    module_names = _module_names(schemas)

    def model_of(source: SchemaSource | None, role: Role) -> tuple[GeneratedModel, str] | None:
        key = (source.ref.arn, source.version, role) if source else None
        if key is None or key not in models:
            return None
        return models[key], module_names[key]

    tools = []
    for machine in machines:
        if machine.name not in names:
            continue  # its name is in error
        model, module = model_of(machine.schema, "input") or (None, None)
        output = model_of(machine.output_schema, "output")
        override = _check_overrides(
            machine, settings.workflows.get(machine.name, WorkflowSettings()), settings, diagnostics
        )
        schema_tagged = machine.schema is not None or bool(
            settings.schema_tag_key and settings.schema_tag_key in machine.tags
        )
        tool_input = _input(machine, model, module, override, diagnostics, schema_tagged)
        if not _check_idempotency_argument(machine, model, diagnostics):
            continue
        wait = override.max_wait_seconds or settings.max_wait_seconds
        name = names[machine.name]
        function = functions[name]
        stop_on_cancel = bool(override.stop_on_cancel)
        tag = tagged[machine.name]
        hints, hint_reasons = _hints(machine, tag, override)
        steps = (
            approval_steps(machine.name, machine.definition, diagnostics)
            if machine.type != "EXPRESS"
            else ()
        )
        confirm = bool(override.confirm)
        tools.append(
            Tool(
                name=name,
                function=function,
                constant=f"{function.upper()}_WORKFLOW",
                title=override.title or tag.title or _title(machine, name, settings.prefix),
                description=describe(
                    machine,
                    model,
                    tool_input,
                    wait,
                    summary=override.description or tag.description,
                    stop_on_cancel=stop_on_cancel,
                    approvals=steps,
                    confirm=confirm,
                ),
                machine_name=machine.name,
                machine_arn=machine.arn,
                workflow_type="EXPRESS" if machine.type == "EXPRESS" else "STANDARD",
                max_wait_seconds=wait,
                input=tool_input,
                schema=machine.schema if model else None,
                output=ToolOutput(output[0].root_class, output[1]) if output else None,
                output_schema=machine.output_schema if output else None,
                hints=hints,
                hint_reasons=hint_reasons,
                stop_on_cancel=stop_on_cancel,
                poll_interval_seconds=override.poll_interval_seconds
                or settings.poll_interval_seconds,
                confirm=confirm,
                approval_steps=steps,
                definition_sha256=definition_digest(machine.definition),
                target=machine.target,
                target_arn=machine.target_arn,
                version_arn=machine.version_arn,
                tags=tuple(sorted(machine.tags.items())),
            )
        )
    selected = {m.name for m in machines}
    for name in sorted(settings.workflows):
        if name not in selected:
            diagnostics.warning(
                f"[tool.sfn-mcp.workflows] names {name!r}, which is not among the selected "
                "state machines",
                hint="check the machine's name (exact, case-sensitive) and the selection",
            )
    modules = tuple(
        ModelModule(module=module_names[key], source=models[key].source, schema=schemas[key])
        for key in sorted(module_names, key=lambda k: module_names[k])
    )
    return Package(
        name=settings.name,
        compiler_version=__version__,
        selection=settings.selection_summary(),
        tools=tuple(sorted(tools, key=lambda t: t.name)),
        modules=modules,
        client_profile=settings.client_profile,
        surface=settings.surface,
    )
