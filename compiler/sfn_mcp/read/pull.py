"""Read, part 2 (pull): describe each selected machine and fetch the schema its tag points to.

Calls run concurrently on a bounded pool (botocore's adaptive retries absorb throttling); every
failure names the machine or schema and the AWS error code, and all failures of a step (describing
machines, reading tags, fetching schemas, checking formats) are reported together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from sfn_mcp.diagnostics import CompileError, Counter, quiet_count
from sfn_mcp.read.aws import Aws, run_pool
from sfn_mcp.read.records import MachineSource, Role, SchemaRef, SchemaSource, Selected
from sfn_mcp.settings import Settings, WorkflowSettings

SUPPORTED_SCHEMA_TYPES = ("OpenApi3", "JSONSchemaDraft4")
SCHEMA_ARN = re.compile(
    r"^arn:aws[a-z-]*:schemas:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"schema/(?P<registry>[^/]+)/(?P<name>[^/]+)$"
)


def _schema(
    fetched: Mapping[tuple[SchemaRef, str], SchemaSource],
    requests: Mapping[tuple[str, Role], tuple[SchemaRef, str]],
    machine: str,
    role: Role,
) -> SchemaSource | None:
    request = requests.get((machine, role))
    return fetched[request] if request else None


def parse_schema_arn(value: str, machine: str, tag_key: str) -> SchemaRef:
    match = SCHEMA_ARN.match(value.strip())
    if not match:
        raise CompileError(
            f"state machine {machine!r}: tag {tag_key}={value!r} is not a schema ARN",
            hint="expected arn:aws:schemas:<region>:<account>:schema/<registry>/<name>",
        )
    return SchemaRef(value.strip(), match["region"], match["registry"], match["name"])


def definition_comment(definition: str) -> str:
    try:
        parsed = json.loads(definition)
    except ValueError:
        return ""
    comment = parsed.get("Comment") if isinstance(parsed, dict) else None
    return comment.strip() if isinstance(comment, str) else ""


def pull(
    aws: Aws, settings: Settings, selected: list[Selected], *, count: Counter = quiet_count
) -> list[MachineSource]:
    sfn = aws.client("stepfunctions")
    described = run_pool(
        selected,
        lambda s: sfn.describe_state_machine(stateMachineArn=s.machine.arn),
        workers=settings.max_workers,
        describe=lambda s: f"state machine {s.machine.name!r}: DescribeStateMachine failed",
        label="describing state machines",
        count=count,
    )
    # What to fetch, per machine and role: a schema ARN and a pinned version ("" = the latest).
    requests: dict[tuple[str, Role], tuple[SchemaRef, str]] = {}
    problems = []
    roles: tuple[tuple[Role, str | None], ...] = (
        ("input", settings.schema_tag_key),
        ("output", settings.output_schema_tag_key),
    )
    for item in selected:
        overrides = settings.workflows.get(item.machine.name, WorkflowSettings())
        for role, tag_key in roles:
            value = item.tags.get(tag_key or "")
            if not (tag_key and value):
                continue
            try:
                ref = parse_schema_arn(value, item.machine.name, tag_key)
            except CompileError as exc:
                problems.extend(exc.problems)
                continue
            pinned = (
                overrides.schema_version if role == "input" else overrides.output_schema_version
            )
            requests[(item.machine.name, role)] = (ref, pinned or "")
    if problems:
        raise CompileError(problems, hint="fix the tag values, or untag the machines")

    def fetch(request: tuple[SchemaRef, str]) -> SchemaSource:
        ref, version = request
        pin = {"SchemaVersion": version} if version else {}
        response = aws.client("schemas", ref.region).describe_schema(
            RegistryName=ref.registry, SchemaName=ref.name, **pin
        )
        return SchemaSource(
            ref=ref,
            version=str(response.get("SchemaVersion") or version or "?"),
            type=str(response.get("Type") or "unknown"),
            content=str(response.get("Content") or ""),
            description=str(response.get("Description") or ""),
        )

    users: dict[tuple[SchemaRef, str], list[str]] = {}
    for (machine, _), request in requests.items():
        users.setdefault(request, []).append(machine)
    unique = sorted(users, key=lambda r: (r[0].arn, r[1]))
    schemas = run_pool(
        unique,
        fetch,
        workers=settings.max_workers,
        describe=lambda r: (
            f"schema {r[0].registry}/{r[0].name}{f' version {r[1]}' if r[1] else ''} "
            f"(tagged on {', '.join(users[r])}): DescribeSchema failed"
        ),
        label="fetching schemas",
        count=count,
    )
    fetched = dict(zip(unique, schemas, strict=True))
    unsupported = [
        f"state machine {machine!r}: {role} schema {s.ref.registry}/{s.ref.name} v{s.version} "
        f"has format {s.type!r}; sfn-mcp reads {' and '.join(SUPPORTED_SCHEMA_TYPES)}"
        for (machine, role), request in requests.items()
        if (s := fetched[request]).type not in SUPPORTED_SCHEMA_TYPES
    ]
    if unsupported:
        raise CompileError(unsupported, hint="convert the schema in the Schema Registry")
    return [
        MachineSource(
            name=item.machine.name,
            arn=item.machine.arn,
            type=str(description.get("type", item.machine.type)),
            definition=str(description.get("definition", "")),
            comment=definition_comment(str(description.get("definition", ""))),
            tags=dict(item.tags),
            schema=_schema(fetched, requests, item.machine.name, "input"),
            output_schema=_schema(fetched, requests, item.machine.name, "output"),
        )
        for item, description in zip(selected, described, strict=True)
    ]
