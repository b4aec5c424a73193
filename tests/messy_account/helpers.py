"""The messy account as data, and what deploys it into a local AWS.

- ``machines.json``: every state machine (name, type, optional definition Comment, tags); a tag
  value ``<arn:FILE>`` stands for the ARN of ``schemas/FILE.json``.
- ``schemas/*.json``: one schema each (registry, name, type, optional region, its versions in
  order; ``delete`` for one that is removed after the machines are tagged, ``deployable: false``
  with ``content_text`` for content no Schema Registry stores, compiled from records only).
- ``expected.json``: for every machine, the tool it becomes or the error it is, typed or not and
  why, and a substring of each warning it must produce.
- ``config.toml``: the ``[tool.sfn-mcp]`` table of the project folder, copied as pyproject.toml.

Only the standard library and plain callables here: test modules import this, never each other.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/messy-states"
ARN_PLACEHOLDER = re.compile(r"<arn:([a-z0-9-]+)>")
# AWS: state machine names are 1-80 characters without these (nor white space and controls).
FORBIDDEN_IN_NAMES = set('<>{}[]?*"#%\\^|~`$&,;:/')
TAG_PUNCTUATION = set("_.:/=+-@")

MakeClient = Callable[..., Any]  # (service, region_name=...) -> a boto3 client


@dataclass(frozen=True)
class SchemaSpec:
    key: str  # the file's stem
    registry: str
    name: str
    type: str
    region: str
    versions: tuple[str, ...]  # the content of each version, in order
    delete: bool = False
    deployable: bool = True

    @property
    def arn(self) -> str:
        return f"arn:aws:schemas:{self.region}:{ACCOUNT}:schema/{self.registry}/{self.name}"


@dataclass(frozen=True)
class MachineSpec:
    name: str
    type: str
    tags: dict[str, str]
    comment: str = ""
    result: Any = None  # the Pass state's Result (None: it passes its input on)

    def definition(self) -> str:
        state: dict[str, Any] = {"Type": "Pass", "End": True}
        if self.result is not None:
            state["Result"] = self.result
        document: dict[str, Any] = {"StartAt": "Done", "States": {"Done": state}}
        if self.comment:
            document = {"Comment": self.comment, **document}
        return json.dumps(document, ensure_ascii=False)


@dataclass(frozen=True)
class Expected:
    """What one machine must become."""

    machine: str
    tool: str | None  # None: the machine is an error
    error: str | None
    typed: bool
    why: str
    warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def load_schemas() -> dict[str, SchemaSpec]:
    specs = {}
    for path in sorted((HERE / "schemas").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "content_text" in data:
            versions: tuple[str, ...] = (data["content_text"],)
        else:
            versions = tuple(json.dumps(v, ensure_ascii=False) for v in data["versions"])
        specs[path.stem] = SchemaSpec(
            key=path.stem,
            registry=data["registry"],
            name=data["name"],
            type=data["type"],
            region=data.get("region", REGION),
            versions=versions,
            delete=bool(data.get("delete", False)),
            deployable=bool(data.get("deployable", True)),
        )
    return specs


def load_machines(schemas: dict[str, SchemaSpec] | None = None) -> list[MachineSpec]:
    """The machines with every ``<arn:FILE>`` tag value replaced by that schema's ARN."""
    schemas = schemas if schemas is not None else load_schemas()
    document = json.loads((HERE / "machines.json").read_text(encoding="utf-8"))

    def resolve(value: str) -> str:
        return ARN_PLACEHOLDER.sub(lambda m: schemas[m.group(1)].arn, value)

    return [
        MachineSpec(
            name=m["name"],
            type=m["type"],
            tags={k: resolve(v) for k, v in m["tags"].items()},
            comment=m.get("comment", ""),
            result=m.get("result"),
        )
        for m in document["machines"]
    ]


def load_expected() -> dict[str, Expected]:
    document = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    known = {"tool", "error", "typed", "why", "warnings"}
    return {
        name: Expected(
            machine=name,
            tool=entry.get("tool"),
            error=entry.get("error"),
            typed=bool(entry.get("typed", False)),
            why=entry["why"],
            warnings=tuple(entry.get("warnings", ())),
            extra={k: v for k, v in entry.items() if k not in known},
        )
        for name, entry in document["machines"].items()
    }


def load_run_warnings() -> tuple[str, ...]:
    """Warnings of the whole run that no single machine's entry holds."""
    document = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    return tuple(document.get("run_warnings", ()))


def aws_name_problems(name: str) -> list[str]:
    """Why AWS would refuse ``name`` as a state machine name (ministack accepts anything)."""
    problems = []
    if not 1 <= len(name) <= 80:
        problems.append(f"{len(name)} characters")
    bad = sorted(
        {
            c
            for c in name
            if c in FORBIDDEN_IN_NAMES or c.isspace() or unicodedata.category(c) == "Cc"
        }
    )
    if bad:
        problems.append(f"characters {bad}")
    return problems


def aws_tag_problems(key: str, value: str) -> list[str]:
    """Why AWS would refuse a tag (keys 1-128, values 0-256 characters; letters, digits, spaces
    and ``_ . : / = + - @``). ``aws:`` keys are AWS's own: they are reported by the API but a
    user cannot set them, so they are allowed here."""

    def odd(text: str) -> list[str]:
        return sorted(
            {c for c in text if not (unicodedata.category(c)[0] in "LNZ" or c in TAG_PUNCTUATION)}
        )

    problems = []
    if not 1 <= len(key) <= 128 or len(value) > 256:
        problems.append("length")
    if odd(key) or odd(value):
        problems.append(f"characters {odd(key) + odd(value)}")
    return problems


def deploy_schemas(make_client: MakeClient, schemas: Iterable[SchemaSpec]) -> None:
    """Create the registries and every version of each deployable schema (idempotent: a schema
    that exists already is left as it is)."""
    for spec in schemas:
        if not spec.deployable:
            continue
        client = make_client("schemas", region_name=spec.region)
        with contextlib.suppress(client.exceptions.ConflictException):
            client.create_registry(RegistryName=spec.registry)
        try:
            client.describe_schema(RegistryName=spec.registry, SchemaName=spec.name)
            continue
        except client.exceptions.NotFoundException:
            pass
        first, *later = spec.versions
        client.create_schema(
            RegistryName=spec.registry, SchemaName=spec.name, Type=spec.type, Content=first
        )
        for content in later:
            client.update_schema(
                RegistryName=spec.registry, SchemaName=spec.name, Type=spec.type, Content=content
            )


def delete_gone_schemas(make_client: MakeClient, schemas: Iterable[SchemaSpec]) -> None:
    for spec in schemas:
        if spec.delete and spec.deployable:
            client = make_client("schemas", region_name=spec.region)
            with contextlib.suppress(client.exceptions.NotFoundException):
                client.delete_schema(RegistryName=spec.registry, SchemaName=spec.name)


def machine_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def create_machines(make_client: MakeClient, machines: Iterable[MachineSpec]) -> None:
    sfn = make_client("stepfunctions")
    for spec in machines:
        sfn.create_state_machine(
            name=spec.name,
            definition=spec.definition(),
            roleArn=ROLE,
            type=spec.type,
            tags=[{"key": k, "value": v} for k, v in spec.tags.items()],
        )


def delete_machines(make_client: MakeClient, machines: Iterable[MachineSpec]) -> None:
    sfn = make_client("stepfunctions")
    for spec in machines:
        sfn.delete_state_machine(stateMachineArn=machine_arn(spec.name))


def deploy(make_client: MakeClient) -> tuple[dict[str, SchemaSpec], list[MachineSpec]]:
    """The whole fixture into a local AWS: schemas, machines, then the schemas that are gone."""
    schemas = load_schemas()
    machines = load_machines(schemas)
    deploy_schemas(make_client, schemas.values())
    create_machines(make_client, machines)
    delete_gone_schemas(make_client, schemas.values())
    return schemas, machines
