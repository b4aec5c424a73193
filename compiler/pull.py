"""Step 2, pull: describe each selected machine and fetch the schema its tag points to.

Calls run concurrently on a bounded pool (botocore's adaptive retries absorb throttling); every
failure names the machine or schema and the AWS error code, and all failures of a step (describing
machines, reading tags, fetching schemas, checking formats) are reported together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .aws import Aws, run_pool
from .config import Settings
from .errors import CompileError
from .select import Selected

SUPPORTED_SCHEMA_TYPES = ("OpenApi3", "JSONSchemaDraft4")
SCHEMA_ARN = re.compile(
    r"^arn:aws[a-z-]*:schemas:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"schema/(?P<registry>[^/]+)/(?P<name>[^/]+)$"
)


@dataclass(frozen=True)
class SchemaRef:
    arn: str
    region: str
    registry: str
    name: str


@dataclass(frozen=True)
class SchemaSource:
    ref: SchemaRef
    version: str
    type: str
    content: str
    description: str


@dataclass(frozen=True)
class MachineSource:
    name: str
    arn: str
    type: str
    definition: str
    comment: str
    tags: Mapping[str, str]
    schema: SchemaSource | None


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


def pull(aws: Aws, settings: Settings, selected: list[Selected]) -> list[MachineSource]:
    sfn = aws.client("stepfunctions")
    described = run_pool(
        selected,
        lambda s: sfn.describe_state_machine(stateMachineArn=s.machine.arn),
        workers=settings.max_workers,
        describe=lambda s: f"state machine {s.machine.name!r}: DescribeStateMachine failed",
        label="describing state machines",
    )
    refs: dict[str, SchemaRef] = {}
    wanted: dict[str, SchemaRef] = {}
    problems = []
    for item in selected:
        value = item.tags.get(settings.schema_tag_key or "")
        if settings.schema_tag_key and value:
            try:
                ref = parse_schema_arn(value, item.machine.name, settings.schema_tag_key)
            except CompileError as exc:
                problems.extend(exc.problems)
                continue
            refs[item.machine.name] = wanted[ref.arn] = ref
    if problems:
        raise CompileError(problems, hint="fix the tag values, or untag the machines")

    def fetch(ref: SchemaRef) -> SchemaSource:
        response = aws.client("schemas", ref.region).describe_schema(
            RegistryName=ref.registry, SchemaName=ref.name
        )
        return SchemaSource(
            ref=ref,
            version=str(response.get("SchemaVersion") or "?"),
            type=str(response.get("Type") or "unknown"),
            content=str(response.get("Content") or ""),
            description=str(response.get("Description") or ""),
        )

    users: dict[str, list[str]] = {}
    for machine, ref in refs.items():
        users.setdefault(ref.arn, []).append(machine)
    arns = sorted(wanted)
    schemas = run_pool(
        [wanted[a] for a in arns],
        fetch,
        workers=settings.max_workers,
        describe=lambda r: (
            f"schema {r.registry}/{r.name} (tagged on {', '.join(users[r.arn])}): "
            "DescribeSchema failed"
        ),
        label="fetching schemas",
    )
    by_arn = dict(zip(arns, schemas, strict=True))
    unsupported = [
        f"state machine {machine!r}: schema {s.ref.registry}/{s.ref.name} v{s.version} has "
        f"format {s.type!r}; sfn-mcp reads {' and '.join(SUPPORTED_SCHEMA_TYPES)}"
        for machine, ref in refs.items()
        if (s := by_arn[ref.arn]).type not in SUPPORTED_SCHEMA_TYPES
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
            schema=by_arn[refs[item.machine.name].arn] if item.machine.name in refs else None,
        )
        for item, description in zip(selected, described, strict=True)
    ]
