"""Read, part 2 (pull): describe each selected machine and fetch the schemas its tags point to.

Calls run concurrently on a bounded pool (botocore's adaptive retries absorb throttling). What
has a safe choice becomes a warning and an untyped tool rather than a stopped build: a schema tag
that is no schema ARN, a schema that no longer exists or may not be read, a schema in a format
sfn-mcp does not read. A machine that cannot be described, or an answer that lacks what the API
guarantees, has none: that is an error naming the machine or schema. Every problem of the run is
collected, none stops the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sfn_mcp.diagnostics import Counter, Diagnostics, quiet_count
from sfn_mcp.read.aws import Aws, Failure, run_each
from sfn_mcp.read.records import MachineSource, Role, SchemaSource, Selected
from sfn_mcp.read.schema_tags import (
    SUPPORTED_SCHEMA_TYPES,
    Request,
    definition_comment,
    schema_requests,
)
from sfn_mcp.settings import Settings, WorkflowSettings

# Schema errors after which the tool is still made, untyped: the schema is gone or unreadable.
SCHEMA_GONE = ("NotFoundException", "AccessDeniedException", "ForbiddenException")


def _fetch(aws: Aws, request: Request) -> SchemaSource:
    ref, version = request
    pin = {"SchemaVersion": version} if version else {}
    response = aws.client("schemas", ref.region).describe_schema(
        RegistryName=ref.registry, SchemaName=ref.name, **pin
    )
    missing = [key for key in ("Content", "Type") if not isinstance(response.get(key), str)]
    if missing or not str(response.get("Content")).strip():
        raise _Garbage(
            f"DescribeSchema for {ref.registry}/{ref.name} answered without "
            f"{' and '.join(missing or ['Content'])}"
        )
    return SchemaSource(
        ref=ref,
        version=str(response.get("SchemaVersion") or version or "?"),
        type=str(response["Type"]),
        content=str(response["Content"]),
        description=str(response.get("Description") or ""),
    )


class _Garbage(Exception):
    """An AWS answer without what the API guarantees."""


def _described(
    item: Selected, response: Mapping[str, object] | Failure, diagnostics: Diagnostics
) -> Mapping[str, object] | None:
    name = item.machine.name
    if isinstance(response, Failure):
        diagnostics.error(response.message, hint="check the permission states:DescribeStateMachine")
        return None
    definition = response.get("definition")
    if not isinstance(definition, str) or not definition.strip():
        diagnostics.error(
            f"state machine {name!r}: DescribeStateMachine answered without a definition",
            hint="check the endpoint the compiler talks to (AWS_ENDPOINT_URL*) and retry",
        )
        return None
    return response


Target = tuple[str, str, str]  # the ARN tools start, the version read, its definition


def _target(sfn: Any, machine_arn: str, target: str) -> Target:
    """Resolve ``alias:NAME`` or ``version:N`` to the version whose definition runs."""
    kind, _, name = target.partition(":")
    qualified = f"{machine_arn}:{name}"
    version = qualified
    if kind == "alias":
        alias = sfn.describe_state_machine_alias(stateMachineAliasArn=qualified)
        routes = alias.get("routingConfiguration")
        if not isinstance(routes, list) or not routes:
            raise _Garbage(f"DescribeStateMachineAlias for {qualified} answered without routing")
        if len(routes) != 1:
            raise _Split(
                f"alias {name} routes to {len(routes)} versions "
                f"({', '.join(str(r.get('stateMachineVersionArn')) for r in routes)}), so what "
                "runs is not one reviewed definition"
            )
        version = str(routes[0].get("stateMachineVersionArn") or "")
    described = sfn.describe_state_machine(stateMachineArn=version)
    definition = described.get("definition")
    if not isinstance(definition, str) or not definition.strip():
        raise _Garbage(f"DescribeStateMachine for {version} answered without a definition")
    return qualified, version, definition


class _Split(Exception):
    """An alias that routes to more than one version."""


def _targets(
    aws: Aws, settings: Settings, selected: list[Selected], diagnostics: Diagnostics, count: Counter
) -> dict[str, Target]:
    """The resolved target of every machine that does not run as it is."""
    wanted = {
        item.machine.name: target
        for item in selected
        if (target := _target_of(settings, item.machine.name)) != "latest"
    }
    items = [item for item in selected if item.machine.name in wanted]
    sfn = aws.client("stepfunctions")

    def resolve(item: Selected) -> Target | str:
        try:
            return _target(sfn, item.machine.arn, wanted[item.machine.name])
        except (_Garbage, _Split) as exc:
            return str(exc)

    results = run_each(
        items,
        resolve,
        workers=settings.max_workers,
        describe=lambda i: f"state machine {i.machine.name!r}: target {wanted[i.machine.name]}",
        label="resolving targets",
        count=count,
    )
    resolved = {}
    for item, result in zip(items, results, strict=True):
        name = item.machine.name
        if isinstance(result, tuple):
            resolved[name] = result
            continue
        message = (
            f"state machine {name!r}: target {wanted[name]}: {result}"
            if isinstance(result, str)
            else result.message
        )
        diagnostics.error(
            message,
            hint="publish the version or create the alias, or change target (per workflow under "
            f'[tool.sfn-mcp.workflows."{name}"])',
        )
    return resolved


def _target_of(settings: Settings, machine: str) -> str:
    return settings.workflows.get(machine, WorkflowSettings()).target or settings.target


def pull(
    aws: Aws,
    settings: Settings,
    selected: list[Selected],
    diagnostics: Diagnostics,
    *,
    count: Counter = quiet_count,
) -> list[MachineSource]:
    """The selected machines with their definitions and schemas; what could not be read is in
    ``diagnostics`` (warnings where the tool is still made, errors where it cannot be)."""
    sfn = aws.client("stepfunctions")
    described = run_each(
        selected,
        lambda s: sfn.describe_state_machine(stateMachineArn=s.machine.arn),
        workers=settings.max_workers,
        describe=lambda s: f"state machine {s.machine.name!r}: DescribeStateMachine failed",
        label="describing state machines",
        count=count,
    )
    targets = _targets(aws, settings, selected, diagnostics, count)
    requests = schema_requests(selected, settings, diagnostics)
    users: dict[Request, list[str]] = {}
    for (machine, _), request in requests.items():
        users.setdefault(request, []).append(machine)
    unique = sorted(users, key=lambda r: (r[0].arn, r[1]))

    def label(request: Request) -> str:
        ref, version = request
        return f"schema {ref.registry}/{ref.name}{f' version {version}' if version else ''}"

    def fetch(request: Request) -> SchemaSource | str:
        try:
            return _fetch(aws, request)
        except _Garbage as exc:
            return str(exc)

    results = run_each(
        unique,
        fetch,
        workers=settings.max_workers,
        describe=lambda r: f"{label(r)} (tagged on {', '.join(users[r])}): DescribeSchema failed",
        label="fetching schemas",
        count=count,
    )
    fetched: dict[Request, SchemaSource] = {}
    for request, result in zip(unique, results, strict=True):
        if isinstance(result, SchemaSource):
            if result.type in SUPPORTED_SCHEMA_TYPES:
                fetched[request] = result
            else:
                diagnostics.warning(
                    f"{label(request)} v{result.version} (tagged on {', '.join(users[request])}) "
                    f"has format {result.type!r}; sfn-mcp reads "
                    f"{' and '.join(SUPPORTED_SCHEMA_TYPES)}, so the tool is untyped",
                    hint="convert the schema in the Schema Registry",
                )
        elif isinstance(result, str):
            diagnostics.error(
                f"{result} (tagged on {', '.join(users[request])})",
                hint="check the endpoint the compiler talks to (AWS_ENDPOINT_URL*) and retry",
            )
        elif result.code in SCHEMA_GONE and not request[1]:  # a pinned version must exist
            diagnostics.warning(
                f"{result.message.rstrip('. ')}; the tool is untyped",
                hint="fix or remove the schema tag, or grant schemas:DescribeSchema",
            )
        elif request[1] and result.code == "NotFoundException":
            owners = ", ".join(f'[tool.sfn-mcp.workflows."{m}"]' for m in users[request])
            diagnostics.error(
                result.message,
                hint=f"the pinned schema-version {request[1]} does not exist: change it in "
                f"{owners}, or remove it to take the latest",
            )
        else:
            diagnostics.error(result.message, hint="retry; check the endpoint and permissions")

    def schema(machine: str, role: Role) -> SchemaSource | None:
        request = requests.get((machine, role))
        return fetched.get(request) if request else None

    machines = []
    for item, response in zip(selected, described, strict=True):
        description = _described(item, response, diagnostics)
        if description is None:
            continue
        definition = str(description["definition"])
        target_arn = version_arn = ""
        target = _target_of(settings, item.machine.name)
        if target != "latest":
            if item.machine.name not in targets:
                continue  # its target is in error
            target_arn, version_arn, definition = targets[item.machine.name]
        machines.append(
            MachineSource(
                name=item.machine.name,
                arn=item.machine.arn,
                type=str(description.get("type") or item.machine.type),
                definition=definition,
                comment=definition_comment(definition),
                tags=dict(item.tags),
                schema=schema(item.machine.name, "input"),
                output_schema=schema(item.machine.name, "output"),
                target="" if target == "latest" else target,
                target_arn=target_arn,
                version_arn=version_arn,
            )
        )
    return machines
