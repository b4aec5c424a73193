"""Deploy the examples' template into the local AWS, idempotently.

``examples/template.yaml`` (SAM) is the one source of truth of the example workflows: their state
machines, schemas, Lambda functions, table, buckets and registry. Its machines and schemas are
read with the compiler's own repository reader (``sfn_mcp.read.repository``), so the definition
text, tags and schema content deployed here are exactly what ``sfn-mcp generate`` sees when it
compiles the template with no AWS; the other resources are read from the template with the same
intrinsic resolver. ``examples/seed-data.json`` holds what a template does not: the local
account and region, a default role, and the S3 objects to upload.

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
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.log import REPO_ROOT, Log, stderr_log
from sfn_mcp.diagnostics import CompileError, Diagnostics
from sfn_mcp.read.records import SchemaSource
from sfn_mcp.read.repository.cloudformation import TemplateReader
from sfn_mcp.read.repository.found import FoundMachine, FoundSchema
from sfn_mcp.read.repository.intrinsics import Resolver, Unresolvable
from sfn_mcp.read.repository.load import load_template
from sfn_mcp.settings import Settings

EXAMPLES_DIR = REPO_ROOT / "examples"
TEMPLATE = "template.yaml"
DATA = "seed-data.json"
MACHINE_KINDS = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
LAMBDA_RUNTIME = "python3.12"
READY_TIMEOUT = 30.0

Clients = Callable[[str], Any]
Json = dict[str, Any]


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


# --- the template ------------------------------------------------------------------------------


@dataclass
class Stack:
    """The examples' template as the seeder deploys it: the compiler's own reading of its
    machines and schemas (so what is deployed is what a compile from the template sees), and
    the other resources with their intrinsics resolved."""

    template_path: Path
    settings: Settings
    template: Json
    resolver: Resolver
    machines: list[FoundMachine]
    schemas: list[FoundSchema]

    @classmethod
    def load(cls, examples_dir: Path, account: str, region: str) -> Stack:
        path = examples_dir / TEMPLATE
        settings = Settings(
            source="cloudformation", templates=(path,), account=account, region=region
        )
        diagnostics = Diagnostics()
        try:
            template = load_template(path)
            reader = TemplateReader(path, template, settings, diagnostics)
            machines, schemas = reader.machines(), list(reader.schemas().values())
        except CompileError as exc:
            raise SeedError(exc.render()) from exc
        problems = [d.render() for d in diagnostics if d.level != "note"]
        problems += [f"{s.where}: {s.problem}" for s in schemas if s.source is None]
        if problems:
            raise SeedError(f"{path} does not deploy as it is:\n" + "\n".join(problems))
        return cls(path, settings, template, Resolver(template, settings), machines, schemas)

    def resources(self, *kinds: str) -> list[tuple[str, Json]]:
        """(logical id, resolved properties) of the resources of these types, in template order."""
        found = []
        for logical_id, resource in self.template.get("Resources", {}).items():
            if resource.get("Type") in kinds:
                try:
                    found.append(
                        (logical_id, self.resolver.resolve(resource.get("Properties", {})))
                    )
                except Unresolvable as exc:
                    raise SeedError(f"{TEMPLATE}: resource {logical_id}: {exc}") from exc
        return found

    def physical(self, logical_id: str) -> str:
        try:
            return str(self.resolver.ref(logical_id))
        except Unresolvable as exc:
            raise SeedError(f"{TEMPLATE}: {exc}") from exc


# --- resources ---------------------------------------------------------------------------------


def _seed_tables(clients: Clients, stack: Stack, report: SeedReport) -> None:
    dynamodb = clients("dynamodb")
    for _, props in stack.resources("AWS::DynamoDB::Table"):
        name = props["TableName"]
        try:
            dynamodb.describe_table(TableName=name)
            report.record("tables", "unchanged")
            continue
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
        dynamodb.create_table(
            TableName=name,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
        )
        report.record("tables", "created")


def _seed_buckets(clients: Clients, stack: Stack, report: SeedReport) -> None:
    s3 = clients("s3")
    for _, props in stack.resources("AWS::S3::Bucket"):
        try:
            s3.head_bucket(Bucket=props["BucketName"])
            report.record("buckets", "unchanged")
        except Exception as exc:
            if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            s3.create_bucket(Bucket=props["BucketName"])
            report.record("buckets", "created")


def _object_files(examples_dir: Path, spec: Json) -> Iterator[tuple[str, Path]]:
    directory = examples_dir / spec["directory"]
    if not directory.is_dir():
        raise SeedError(f"{DATA}: object directory {directory} does not exist")
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        yield spec.get("prefix", "") + path.relative_to(directory).as_posix(), path


def _seed_objects(
    clients: Clients, examples_dir: Path, objects: list[Json], stack: Stack, report: SeedReport
) -> None:
    s3 = clients("s3")
    for spec in objects:
        bucket = stack.physical(spec["bucket"])
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


def _seed_registries(clients: Clients, stack: Stack, report: SeedReport) -> None:
    schemas = clients("schemas")
    for _, props in stack.resources("AWS::EventSchemas::Registry"):
        name = props["RegistryName"]
        try:
            schemas.describe_registry(RegistryName=name)
            report.record("registries", "unchanged")
        except schemas.exceptions.NotFoundException:
            schemas.create_registry(RegistryName=name, Description=props.get("Description", ""))
            report.record("registries", "created")


def _seed_schema(clients: Clients, schema: SchemaSource, report: SeedReport) -> str:
    """Create or update one schema with exactly the content the template holds."""
    ref = schema.ref
    wanted = {
        "RegistryName": ref.registry,
        "SchemaName": ref.name,
        "Type": schema.type,
        "Content": schema.content,
        "Description": schema.description,
    }
    registry = clients("schemas")
    try:
        current = registry.describe_schema(RegistryName=ref.registry, SchemaName=ref.name)
    except registry.exceptions.NotFoundException:
        report.record("schemas", "created")
        return str(registry.create_schema(**wanted)["SchemaArn"])
    same = all(current.get(key, "") == wanted[key] for key in ("Type", "Content", "Description"))
    if same:
        report.record("schemas", "unchanged")
        return str(current["SchemaArn"])
    report.record("schemas", "updated")
    return str(registry.update_schema(**wanted)["SchemaArn"])


# --- Lambda functions --------------------------------------------------------------------------


def handler_zip(folder: Path) -> bytes:
    """A reproducible zip of the Python files in ``folder`` (same bytes every time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.glob("*.py")):
            info = zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _seed_function(
    clients: Clients, stack: Stack, logical_id: str, props: Json, report: SeedReport
) -> str:
    code_folder = stack.template_path.parent / str(props.get("CodeUri", ""))
    if not code_folder.is_dir():
        raise SeedError(f"{TEMPLATE}: resource {logical_id}: CodeUri {code_folder} is no folder")
    code = handler_zip(code_folder)
    settings: Json = {
        "FunctionName": props["FunctionName"],
        "Runtime": props.get("Runtime", LAMBDA_RUNTIME),
        "Role": props["Role"],
        "Handler": props["Handler"],
        "Description": props.get("Description", ""),
        "Timeout": int(props.get("Timeout", 30)),
        "MemorySize": int(props.get("MemorySize", 256)),
        "Environment": {"Variables": props.get("Environment", {}).get("Variables", {})},
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
    found: FoundMachine,
    role: str,
    existing: dict[str, str],
    report: SeedReport,
) -> str:
    """Create or update one machine with exactly the definition text and tags the compiler
    reads from the template."""
    sfn = clients("stepfunctions")
    name, kind, definition, tags = (
        found.machine.name,
        found.machine.type,
        found.definition,
        found.tags,
    )
    arn = existing.get(name)
    if arn is not None:
        current = sfn.describe_state_machine(stateMachineArn=arn)
        if current.get("type") != kind:
            # The type of a state machine cannot be changed: replace it.
            sfn.delete_state_machine(stateMachineArn=arn)
            arn = None
    if arn is None:
        created = sfn.create_state_machine(
            name=name,
            definition=definition,
            roleArn=role,
            type=kind,
            tags=[{"key": key, "value": value} for key, value in tags.items()],
        )
        report.record("workflows", "created")
        return str(created["stateMachineArn"])
    changed = False
    if current.get("definition") != definition or current.get("roleArn") != role:
        sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)
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
    """Deploy the examples' template (and upload their data) into the local AWS; return what
    was done. Every run converges: missing things are created, changed ones updated.

    ``clients(service)`` returns a boto3 client for the local AWS (``LocalAws.client``).
    """
    started = time.monotonic()
    clients = functools.cache(clients)
    data = _load_json(examples_dir / DATA)
    stack = Stack.load(examples_dir, str(data["account"]), str(data["region"]))
    if not stack.machines:
        raise SeedError(f"{examples_dir / TEMPLATE} defines no state machine")
    report = SeedReport()

    _seed_tables(clients, stack, report)
    _seed_buckets(clients, stack, report)
    _seed_objects(clients, examples_dir, data.get("objects", []), stack, report)
    _seed_registries(clients, stack, report)
    for schema in stack.schemas:
        assert schema.source is not None  # Stack.load refused the others
        report.schemas[schema.source.ref.name] = _seed_schema(clients, schema.source, report)
    kinds = ("AWS::Serverless::Function", "AWS::Lambda::Function")
    for logical_id, props in stack.resources(*kinds):
        arn = _seed_function(clients, stack, logical_id, props, report)
        report.functions[props["FunctionName"]] = arn
    # Functions become Active in about 0.5 s each; wait for them all at once.
    for name in report.functions:
        _wait_function(clients("lambda"), name)

    roles = {
        logical_id: str(props.get("Role") or props.get("RoleArn") or data["stateMachineRoleArn"])
        for logical_id, props in stack.resources(*MACHINE_KINDS)
    }
    sfn = clients("stepfunctions")
    existing = _existing_machines(sfn)
    for found in stack.machines:
        role = roles.get(found.logical_id, str(data["stateMachineRoleArn"]))
        report.machines[found.machine.name] = _seed_machine(clients, found, role, existing, report)
    report.seconds = time.monotonic() - started
    log(f"seeded {len(stack.machines)} workflows in {report.seconds:.1f} s ({report.summary()})")
    return report
