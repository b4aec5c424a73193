"""Stage 4, the IR: every decision about the package (names, collisions, input modes,
descriptions, hints, which model class a tool takes), made in Python from the read records and
the generated models, with errors that name the machine or schema.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping

from sfn_mcp import __version__
from sfn_mcp.diagnostics import CompileError, Diagnostic
from sfn_mcp.ir.types import Hints, Mode, ModelModule, Package, Tool, ToolInput, ToolOutput
from sfn_mcp.models import GeneratedModel, ModelKey
from sfn_mcp.models import schemas_of as model_schemas
from sfn_mcp.naming import python_identifier, snake_case, title, tool_name
from sfn_mcp.read.records import MachineSource, Role, SchemaSource
from sfn_mcp.settings import Settings, WorkflowSettings
from sfn_mcp_runtime.contract import IDEMPOTENCY_ARGUMENT, STATUS_TOOL, TOOLS_IMPORTS

# Names that tools.py defines or imports; a tool function must not shadow them.
RESERVED = frozenset(TOOLS_IMPORTS) | {"annotations", "Any", "TOOLS", "models"}
# Tags that set a tool's title and behaviour hints; configuration wins over them.
TITLE_TAG = "mcp:title"
HINT_TAGS = {
    "read_only": "mcp:read-only",
    "destructive": "mcp:destructive",
    "idempotent": "mcp:idempotent",
    "open_world": "mcp:open-world",
}


def _tool_names(machines: list[MachineSource], settings: Settings) -> dict[str, str]:
    names: dict[str, str] = {}
    owners: dict[str, list[str]] = {}
    problems = []
    prefix = settings.prefix
    for machine in machines:
        override = settings.workflows.get(machine.name, WorkflowSettings()).tool_name
        name = override or tool_name(machine.name, prefix)
        if not name:
            problems.append(
                f"state machine {machine.name!r} leaves no usable tool name once the prefix "
                f"{prefix!r} is stripped"
            )
            continue
        if name == STATUS_TOOL:
            problems.append(
                f"state machine {machine.name!r} would become tool {name!r}, the name of the "
                "server's own execution-status tool"
            )
            continue
        names[machine.name] = name
        owners.setdefault(name, []).append(machine.name)
    for name, machines_of_name in sorted(owners.items()):
        if len(machines_of_name) > 1:
            listed = " and ".join(repr(m) for m in sorted(machines_of_name))
            problems.append(f"state machines {listed} both become tool {name!r}")
    if problems:
        raise CompileError(
            problems,
            hint='give one a tool-name under [tool.sfn-mcp.workflows."<machine>"], or narrow '
            "the selection (--prefix, --state-machine, --tag)",
        )
    return names


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


def _functions(tools: dict[str, str]) -> dict[str, str]:
    """Python function names for tool names; suffixing must not make two of them meet."""
    functions = {name: python_identifier(name, RESERVED) for name in tools}
    owners: dict[str, list[str]] = {}
    for name, function in functions.items():
        owners.setdefault(function, []).append(tools[name])
    clashes = [
        f"state machines {' and '.join(repr(m) for m in sorted(machines))} would share the "
        f"Python function {function!r}"
        for function, machines in sorted(owners.items())
        if len(machines) > 1
    ]
    if clashes:
        raise CompileError(clashes, hint="rename one of the state machines")
    return functions


def _input(
    machine: MachineSource,
    model: GeneratedModel | None,
    module: str | None,
    override: WorkflowSettings,
) -> ToolInput:
    where = f"workflows.{machine.name}.input-mode"
    if model is None or module is None:
        if override.input_mode:
            raise CompileError(f"{where}: {machine.name!r} has no input schema, so no input mode")
        return ToolInput(model_class="FreeFormInput", module=None, mode="free-form")
    if model.event is None:
        if override.input_mode:
            raise CompileError(
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
        parts.append("Input: any JSON object (no input schema is registered for this workflow).")
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
    return "\n\n".join(parts)


def _tag_switch(machine: MachineSource, key: str) -> bool | None:
    value = machine.tags.get(key)
    if value is None:
        return None
    if value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise CompileError(f"state machine {machine.name!r}: tag {key}={value!r} must be true or false")


def _hints(machine: MachineSource, override: WorkflowSettings) -> Hints:
    """Configuration over tags over the defaults; a read-only workflow is not destructive."""
    chosen: dict[str, bool] = {}
    for field, tag in HINT_TAGS.items():
        configured = getattr(override, field)
        value = configured if configured is not None else _tag_switch(machine, tag)
        if value is not None:
            chosen[field] = value
    if chosen.get("read_only") and "destructive" not in chosen:
        chosen["destructive"] = False
    return Hints(**chosen)


def _title(machine: MachineSource, override: WorkflowSettings, name: str) -> str:
    tagged = machine.tags.get(TITLE_TAG, "").strip()
    return override.title or tagged or title(name, machine.comment)


def _check_overrides(machine: MachineSource, override: WorkflowSettings) -> None:
    where = f"workflows.{machine.name}"
    if override.stop_on_cancel and machine.type == "EXPRESS":
        raise CompileError(
            f"{where}.stop-on-cancel: {machine.name!r} is an EXPRESS workflow, which Step "
            "Functions cannot stop once started synchronously"
        )
    if override.output_schema_version and machine.output_schema is None:
        raise CompileError(
            f"{where}.output-schema-version: {machine.name!r} has no output schema tag to pin"
        )
    if override.schema_version and machine.schema is None:
        raise CompileError(
            f"{where}.schema-version: {machine.name!r} has no input schema tag to pin"
        )


def _check_idempotency_argument(machine: MachineSource, model: GeneratedModel | None) -> None:
    if machine.type == "STANDARD" and model and IDEMPOTENCY_ARGUMENT in model.properties:
        raise CompileError(
            f"state machine {machine.name!r}: its input has a field {IDEMPOTENCY_ARGUMENT!r}, "
            "which STANDARD tools reserve for the idempotency key"
        )


def build(
    settings: Settings,
    machines: list[MachineSource],
    models: Mapping[ModelKey, GeneratedModel],
) -> tuple[Package, list[Diagnostic]]:
    """The package IR, plus warnings worth showing (e.g. overrides for unselected machines)."""
    machines = sorted(machines, key=lambda m: m.name)
    problems = [
        f"state machine {m.name!r} has type {m.type!r}; expected STANDARD or EXPRESS"
        for m in machines
        if m.type not in ("STANDARD", "EXPRESS")
    ]
    if problems:
        raise CompileError(problems)
    names = _tool_names(machines, settings)
    functions = _functions({name: machine for machine, name in names.items()})
    schemas = model_schemas(machines)
    module_names = _module_names(schemas)

    def model_of(source: SchemaSource | None, role: Role) -> tuple[GeneratedModel, str] | None:
        if source is None:
            return None
        key = (source.ref.arn, source.version, role)
        return models[key], module_names[key]

    tools = []
    problems = []
    for machine in machines:
        model, module = model_of(machine.schema, "input") or (None, None)
        output = model_of(machine.output_schema, "output")
        override = settings.workflows.get(machine.name, WorkflowSettings())
        try:
            _check_overrides(machine, override)
            tool_input = _input(machine, model, module, override)
            _check_idempotency_argument(machine, model)
            hints = _hints(machine, override)
        except CompileError as exc:
            problems.extend(exc.problems)
            continue
        wait = override.max_wait_seconds or settings.max_wait_seconds
        name = names[machine.name]
        function = functions[name]
        stop_on_cancel = bool(override.stop_on_cancel)
        tools.append(
            Tool(
                name=name,
                function=function,
                constant=f"{function.upper()}_WORKFLOW",
                title=_title(machine, override, name),
                description=describe(
                    machine,
                    model,
                    tool_input,
                    wait,
                    summary=override.description,
                    stop_on_cancel=stop_on_cancel,
                ),
                machine_name=machine.name,
                machine_arn=machine.arn,
                workflow_type="EXPRESS" if machine.type == "EXPRESS" else "STANDARD",
                max_wait_seconds=wait,
                input=tool_input,
                schema=machine.schema,
                output=ToolOutput(output[0].root_class, output[1]) if output else None,
                output_schema=machine.output_schema,
                hints=hints,
                stop_on_cancel=stop_on_cancel,
                definition_sha256=hashlib.sha256(machine.definition.encode()).hexdigest(),
            )
        )
    if problems:
        raise CompileError(problems)
    selected = {m.name for m in machines}
    warnings = [
        Diagnostic(
            "warning",
            f"[tool.sfn-mcp.workflows] names {name!r}, which is not among the selected state "
            "machines",
            hint="check the machine's name (exact, case-sensitive) and the selection",
        )
        for name in sorted(settings.workflows)
        if name not in selected
    ]
    modules = tuple(
        ModelModule(module=module_names[key], source=models[key].source, schema=schemas[key])
        for key in sorted(module_names, key=lambda k: module_names[k])
    )
    package = Package(
        name=settings.name,
        compiler_version=__version__,
        selection=settings.selection_summary(),
        tools=tuple(sorted(tools, key=lambda t: t.name)),
        modules=modules,
    )
    return package, warnings
