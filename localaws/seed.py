"""Seed the example workflows into the local AWS, idempotently.

Generic over ``examples/``: ``examples/resources.json`` declares the shared resources (the
schema registry, DynamoDB tables, S3 buckets and the objects to upload) and every
``examples/<name>/workflow.json`` declares one state machine with its definition, tags, optional
input schema and Lambda functions (code in ``handlers/``). Nothing here knows a single example.

Placeholders in definitions and Lambda environments: ``${lambda.<key>}`` (the function ARN of a
Lambda the same manifest declares), ``${table.<key>}``, ``${bucket.<key>}`` (physical names from
resources.json), ``${account}`` and ``${region}``.

Every run converges: missing things are created, changed definitions, schemas, tags, code and
function settings are updated, and unchanged ones are left alone.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import mimetypes
import re
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.log import REPO_ROOT, Log, stderr_log

EXAMPLES_DIR = REPO_ROOT / "examples"
LAMBDA_RUNTIME = "python3.12"
READY_TIMEOUT = 30.0

Clients = Callable[[str], Any]
Json = dict[str, Any]

PLACEHOLDER = re.compile(r"\$\{(?:(lambda|table|bucket)\.([A-Za-z0-9_-]+)|(account|region))\}")


class SeedError(RuntimeError):
    """An example is malformed or could not be seeded."""


@dataclass
class SeedReport:
    """What one seed run did: ``actions[kind]`` counts created / updated / unchanged."""

    machines: dict[str, str] = field(default_factory=dict)
    schemas: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    actions: dict[str, Counter[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def record(self, kind: str, action: str) -> None:
        self.actions.setdefault(kind, Counter())[action] += 1

    def summary(self) -> str:
        """e.g. ``workflows: 4 created; functions: 5 unchanged, 1 updated; ...``."""
        parts = []
        for kind, counts in self.actions.items():
            done = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()) if n)
            parts.append(f"{kind}: {done}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Workflow:
    """One ``examples/<name>/workflow.json`` manifest."""

    folder: Path
    name: str
    type: str
    definition_file: Path
    tags: dict[str, str]
    schema: Json | None
    output_schema: Json | None
    lambdas: dict[str, Json]

    @classmethod
    def load(cls, folder: Path) -> Workflow:
        manifest_path = folder / "workflow.json"
        data = _load_json(manifest_path)
        try:
            return cls(
                folder=folder,
                name=str(data["name"]),
                type=str(data.get("type", "STANDARD")),
                definition_file=folder / str(data.get("definition", "definition.asl.json")),
                tags={str(k): str(v) for k, v in data.get("tags", {}).items()},
                schema=data.get("schema"),
                output_schema=data.get("outputSchema"),
                lambdas=dict(data.get("lambdas", {})),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise SeedError(f"{manifest_path}: malformed manifest ({exc!r})") from exc


def load_workflows(examples_dir: Path = EXAMPLES_DIR) -> list[Workflow]:
    """Every example workflow, in folder-name order."""
    return [Workflow.load(path.parent) for path in sorted(examples_dir.glob("*/workflow.json"))]


def _load_json(path: Path) -> Json:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SeedError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise SeedError(f"{path}: expected a JSON object")
    return data


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


# --- placeholders ------------------------------------------------------------------------------


@dataclass
class Names:
    """Values the placeholders resolve to."""

    account: str
    region: str
    tables: dict[str, str]
    buckets: dict[str, str]
    lambdas: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any, where: str) -> Any:
        """Substitute every placeholder in the strings of a JSON value."""
        if isinstance(value, dict):
            return {key: self.resolve(item, where) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, where) for item in value]
        if not isinstance(value, str):
            return value
        resolved = PLACEHOLDER.sub(lambda match: self._one(match, where), value)
        if "${" in resolved:
            raise SeedError(f"{where}: malformed placeholder in {value!r}")
        return resolved

    def _one(self, match: re.Match[str], where: str) -> str:
        kind, key, scalar = match.groups()
        if scalar:
            return self.account if scalar == "account" else self.region
        table = {"lambda": self.lambdas, "table": self.tables, "bucket": self.buckets}[kind]
        if key not in table:
            known = ", ".join(sorted(table)) or "none"
            raise SeedError(f"{where}: unknown {match.group(0)} (known {kind}s: {known})")
        return table[key]


# --- resources ---------------------------------------------------------------------------------


def _seed_tables(clients: Clients, tables: dict[str, Json], report: SeedReport) -> None:
    dynamodb = clients("dynamodb")
    for spec in tables.values():
        name = spec["name"]
        try:
            dynamodb.describe_table(TableName=name)
            report.record("tables", "unchanged")
            continue
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
        key = spec["partitionKey"]
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        report.record("tables", "created")


def _seed_buckets(clients: Clients, buckets: dict[str, Json], report: SeedReport) -> None:
    s3 = clients("s3")
    for spec in buckets.values():
        try:
            s3.head_bucket(Bucket=spec["name"])
            report.record("buckets", "unchanged")
        except Exception as exc:
            if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            s3.create_bucket(Bucket=spec["name"])
            report.record("buckets", "created")


def _object_files(examples_dir: Path, spec: Json) -> Iterator[tuple[str, Path]]:
    directory = examples_dir / spec["directory"]
    if not directory.is_dir():
        raise SeedError(f"resources.json: object directory {directory} does not exist")
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        yield spec.get("prefix", "") + path.relative_to(directory).as_posix(), path


def _seed_objects(
    clients: Clients, examples_dir: Path, objects: list[Json], names: Names, report: SeedReport
) -> None:
    s3 = clients("s3")
    for spec in objects:
        bucket = names.resolve("${bucket." + spec["bucket"] + "}", "resources.json objects")
        for key, path in _object_files(examples_dir, spec):
            body = path.read_bytes()
            etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
            try:
                current = s3.head_object(Bucket=bucket, Key=key).get("ETag")
            except Exception as exc:
                if _code(exc) not in ("404", "NoSuchKey", "NotFound"):
                    raise
                current = None
            if current == etag:
                report.record("objects", "unchanged")
                continue
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
            report.record("objects", "created" if current is None else "updated")


# --- schemas -----------------------------------------------------------------------------------


def _seed_registry(clients: Clients, registry: Json, report: SeedReport) -> None:
    schemas = clients("schemas")
    try:
        schemas.describe_registry(RegistryName=registry["name"])
        report.record("registries", "unchanged")
    except schemas.exceptions.NotFoundException:
        schemas.create_registry(
            RegistryName=registry["name"], Description=registry.get("description", "")
        )
        report.record("registries", "created")


def _seed_schema(
    clients: Clients, registry: str, workflow: Workflow, spec: Json, report: SeedReport
) -> str:
    content = _load_json(workflow.folder / spec["file"])
    wanted = {
        "RegistryName": registry,
        "SchemaName": spec["name"],
        "Type": spec["type"],
        "Content": json.dumps(content, indent=2),
        "Description": spec.get("description", ""),
    }
    schemas = clients("schemas")
    try:
        current = schemas.describe_schema(RegistryName=registry, SchemaName=spec["name"])
    except schemas.exceptions.NotFoundException:
        report.record("schemas", "created")
        return str(schemas.create_schema(**wanted)["SchemaArn"])
    same = (
        current.get("Type") == spec["type"]
        and current.get("Description", "") == wanted["Description"]
        and _parses_to(current.get("Content"), content)
    )
    if same:
        report.record("schemas", "unchanged")
        return str(current["SchemaArn"])
    report.record("schemas", "updated")
    return str(schemas.update_schema(**wanted)["SchemaArn"])


def _parses_to(text: Any, value: Any) -> bool:
    try:
        return bool(json.loads(text) == value)
    except (TypeError, ValueError):
        return False


# --- Lambda ------------------------------------------------------------------------------------


def handler_zip(folder: Path) -> bytes:
    """A reproducible zip of the Python files in ``<folder>/handlers`` (same bytes every time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((folder / "handlers").glob("*.py")):
            info = zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _seed_function(
    clients: Clients,
    resources: Json,
    workflow: Workflow,
    key: str,
    names: Names,
    code: bytes,
    report: SeedReport,
) -> str:
    spec = workflow.lambdas[key]
    where = f"{workflow.folder.name}/workflow.json lambdas.{key}"
    settings: Json = {
        "FunctionName": spec["functionName"],
        "Runtime": spec.get("runtime", LAMBDA_RUNTIME),
        "Role": resources["lambdaRoleArn"],
        "Handler": spec["handler"],
        "Description": spec.get("description", ""),
        "Timeout": int(spec.get("timeout", 30)),
        "MemorySize": int(spec.get("memorySize", 256)),
        "Environment": {"Variables": names.resolve(spec.get("environment", {}), where)},
    }
    lam = clients("lambda")
    sha = base64.b64encode(hashlib.sha256(code).digest()).decode()
    try:
        config = lam.get_function(FunctionName=settings["FunctionName"])["Configuration"]
    except lam.exceptions.ResourceNotFoundException:
        arn = lam.create_function(**settings, Code={"ZipFile": code})["FunctionArn"]
        report.record("functions", "created")
        return str(arn)
    changed = False
    if config.get("CodeSha256") != sha:
        _wait_function(lam, settings["FunctionName"])
        lam.update_function_code(FunctionName=settings["FunctionName"], ZipFile=code)
        changed = True
    current = {
        name: config.get(name)
        for name in ("Runtime", "Role", "Handler", "Description", "Timeout", "MemorySize")
    }
    current["Environment"] = {"Variables": config.get("Environment", {}).get("Variables", {})}
    desired = {name: value for name, value in settings.items() if name != "FunctionName"}
    if current != desired:
        _wait_function(lam, settings["FunctionName"])
        lam.update_function_configuration(FunctionName=settings["FunctionName"], **desired)
        changed = True
    report.record("functions", "updated" if changed else "unchanged")
    return str(config["FunctionArn"])


def _wait_function(lam: Any, name: str) -> None:
    """Wait until a function is Active and no update is in progress."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        config = lam.get_function_configuration(FunctionName=name)
        if config.get("State") == "Failed":
            raise SeedError(f"Lambda {name} failed: {config.get('StateReason')}")
        if config.get("State") == "Active" and config.get("LastUpdateStatus") != "InProgress":
            return
        if time.monotonic() > deadline:
            raise SeedError(f"Lambda {name} is still {config.get('State')} after {READY_TIMEOUT} s")
        time.sleep(0.05)


# --- state machines ----------------------------------------------------------------------------


def _existing_machines(sfn: Any) -> dict[str, str]:
    machines: dict[str, str] = {}
    kwargs: Json = {"maxResults": 100}
    while True:
        page = sfn.list_state_machines(**kwargs)
        machines.update({m["name"]: m["stateMachineArn"] for m in page["stateMachines"]})
        if not page.get("nextToken"):
            return machines
        kwargs["nextToken"] = page["nextToken"]


def _seed_machine(
    clients: Clients,
    resources: Json,
    workflow: Workflow,
    definition: Json,
    tags: dict[str, str],
    existing: dict[str, str],
    report: SeedReport,
) -> str:
    sfn = clients("stepfunctions")
    text = json.dumps(definition, indent=2)
    role = resources["stateMachineRoleArn"]
    arn = existing.get(workflow.name)
    if arn is not None:
        current = sfn.describe_state_machine(stateMachineArn=arn)
        if current.get("type") != workflow.type:
            # The type of a state machine cannot be changed: replace it.
            sfn.delete_state_machine(stateMachineArn=arn)
            arn = None
    if arn is None:
        created = sfn.create_state_machine(
            name=workflow.name,
            definition=text,
            roleArn=role,
            type=workflow.type,
            tags=[{"key": key, "value": value} for key, value in tags.items()],
        )
        report.record("workflows", "created")
        return str(created["stateMachineArn"])
    changed = False
    if not _parses_to(current.get("definition"), definition) or current.get("roleArn") != role:
        sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=role)
        changed = True
    have = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=arn)["tags"]}
    extra = sorted(set(have) - set(tags))
    if extra:
        sfn.untag_resource(resourceArn=arn, tagKeys=extra)
        changed = True
    missing = [{"key": k, "value": v} for k, v in tags.items() if have.get(k) != v]
    if missing:
        sfn.tag_resource(resourceArn=arn, tags=missing)
        changed = True
    report.record("workflows", "updated" if changed else "unchanged")
    return arn


# --- the whole seed ----------------------------------------------------------------------------


def seed_examples(
    clients: Clients, examples_dir: Path = EXAMPLES_DIR, log: Log = stderr_log
) -> SeedReport:
    """Create or update every example and its resources; return what was done.

    ``clients(service)`` returns a boto3 client for the local AWS (``LocalAws.client``).
    """
    started = time.monotonic()
    clients = functools.cache(clients)
    resources = _load_json(examples_dir / "resources.json")
    workflows = load_workflows(examples_dir)
    if not workflows:
        raise SeedError(f"no */workflow.json under {examples_dir}")
    report = SeedReport()
    names = Names(
        account=str(resources["account"]),
        region=str(resources["region"]),
        tables={key: spec["name"] for key, spec in resources.get("tables", {}).items()},
        buckets={key: spec["name"] for key, spec in resources.get("buckets", {}).items()},
    )

    _seed_tables(clients, resources.get("tables", {}), report)
    _seed_buckets(clients, resources.get("buckets", {}), report)
    _seed_objects(clients, examples_dir, resources.get("objects", []), names, report)
    registry = resources["registry"]
    _seed_registry(clients, registry, report)

    planned: list[tuple[Workflow, dict[str, str], dict[str, str]]] = []
    for workflow in workflows:
        tags = dict(workflow.tags)
        for spec, tag_key in (
            (workflow.schema, resources["schemaTagKey"]),
            (workflow.output_schema, resources.get("outputSchemaTagKey")),
        ):
            if spec is None:
                continue
            if not tag_key:
                raise SeedError(f"{workflow.name}: outputSchema needs outputSchemaTagKey")
            schema_arn = _seed_schema(clients, registry["name"], workflow, spec, report)
            report.schemas[spec["name"]] = schema_arn
            tags[str(tag_key)] = schema_arn
        code = handler_zip(workflow.folder) if workflow.lambdas else b""
        lambdas: dict[str, str] = {}
        for key, spec in workflow.lambdas.items():
            arn = _seed_function(clients, resources, workflow, key, names, code, report)
            lambdas[key] = arn
            report.functions[spec["functionName"]] = arn
        planned.append((workflow, tags, lambdas))
    # Functions become Active in about 0.5 s each; wait for them all at once.
    for name in report.functions:
        _wait_function(clients("lambda"), name)

    sfn = clients("stepfunctions")
    existing = _existing_machines(sfn)
    for workflow, tags, lambdas in planned:
        where = f"{workflow.folder.name}/{workflow.definition_file.name}"
        scoped = Names(names.account, names.region, names.tables, names.buckets, lambdas)
        definition = scoped.resolve(_load_json(workflow.definition_file), where)
        report.machines[workflow.name] = _seed_machine(
            clients, resources, workflow, definition, tags, existing, report
        )
    report.seconds = time.monotonic() - started
    log(f"seeded {len(workflows)} workflows in {report.seconds:.1f} s ({report.summary()})")
    return report
