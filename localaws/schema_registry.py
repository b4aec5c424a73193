"""A small in-memory fake of the AWS EventBridge Schema Registry REST API (service ``schemas``).

No local AWS emulator implements the Schema Registry, so the tests and the demo use this one.
It speaks the wire protocol of the botocore model ``schemas/2019-12-02`` (rest-json), so a real
boto3 ``schemas`` client pointed at it (``endpoint_url=`` or ``AWS_ENDPOINT_URL_SCHEMAS``) works
unchanged, paginators included.

Operations served:
    CreateRegistry, DescribeRegistry, ListRegistries, DeleteRegistry,
    CreateSchema, UpdateSchema, DescribeSchema, ListSchemas, ListSchemaVersions,
    DeleteSchema, DeleteSchemaVersion.
Also ``GET /health`` -> ``{"status": "ok"}`` for readiness probes.

State lives in memory, per server, keyed by account (always ``000000000000``) and region (read
from the SigV4 credential scope of the ``Authorization`` header, default ``us-east-1``).
Errors carry the ``x-amzn-ErrorType`` header and a ``{"Code", "Message"}`` body, which botocore
turns into ``client.exceptions.NotFoundException`` / ``ConflictException`` /
``BadRequestException``.

The one deliberate leniency: AWS accepts only the schema types ``OpenApi3`` and
``JSONSchemaDraft4``; this fake stores any other non-empty ``Type`` unchanged, so that tests can
plant a schema in an unsupported format. ``Content`` must still parse as JSON.

Choices where AWS documents nothing, made explicit here: DeleteRegistry also deletes the
registry's schemas; deleting the only remaining version of a schema is refused (use
DeleteSchema); version numbers are never reused; page sizes are 1..100 (default 100).

Run: ``python -m localaws.schema_registry --host 127.0.0.1 --port 14567`` (loopback only).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import ipaddress
import json
import re
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, unquote, urlsplit

ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
AWS_TYPES = ("OpenApi3", "JSONSchemaDraft4")
MAX_CONTENT = 100_000
MAX_DESCRIPTION = 256
MAX_LIMIT = 100

Json = dict[str, Any]
T = TypeVar("T")


class ApiError(Exception):
    """An error response in the shape botocore parses into ``client.exceptions.<code>``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(message: str) -> ApiError:
    return ApiError(404, "NotFoundException", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "ConflictException", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequestException", message)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- state


@dataclass
class Version:
    number: int
    content: str
    type: str
    created: datetime = field(default_factory=_now)


@dataclass
class Schema:
    name: str
    description: str | None
    tags: dict[str, str]
    versions: dict[int, Version] = field(default_factory=dict)
    last_number: int = 0
    last_modified: datetime = field(default_factory=_now)

    @property
    def latest(self) -> Version:
        return self.versions[max(self.versions)]

    def add_version(self, content: str, type_: str) -> Version:
        self.last_number += 1
        version = Version(self.last_number, content, type_)
        self.versions[version.number] = version
        self.last_modified = version.created
        return version


@dataclass
class Registry:
    name: str
    description: str | None
    tags: dict[str, str]
    schemas: dict[str, Schema] = field(default_factory=dict)


@dataclass
class Request:
    region: str
    path: dict[str, str]
    query: dict[str, str]
    body: Json


class Store:
    """All registries of one server, per (account, region), guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._registries: dict[tuple[str, str], dict[str, Registry]] = {}

    def registries(self, region: str) -> dict[str, Registry]:
        return self._registries.setdefault((ACCOUNT, region), {})

    def registry(self, region: str, name: str) -> Registry:
        registry = self.registries(region).get(name)
        if registry is None:
            raise not_found(f"Registry '{name}' does not exist.")
        return registry

    def schema(self, region: str, registry_name: str, schema_name: str) -> Schema:
        schema = self.registry(region, registry_name).schemas.get(schema_name)
        if schema is None:
            raise not_found(f"Schema '{schema_name}' does not exist in registry '{registry_name}'.")
        return schema


def registry_arn(region: str, registry: str) -> str:
    return f"arn:aws:schemas:{region}:{ACCOUNT}:registry/{registry}"


def schema_arn(region: str, registry: str, schema: str) -> str:
    return f"arn:aws:schemas:{region}:{ACCOUNT}:schema/{registry}/{schema}"


# --------------------------------------------------------------------------- validation


def _optional_str(body: Json, key: str, max_len: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string.")
    if len(value) > max_len:
        raise bad_request(f"{key} must be at most {max_len} characters.")
    return value


def _tags(body: Json) -> dict[str, str]:
    tags = body.get("tags", {})
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise bad_request("tags must be a map of strings to strings.")
    return dict(tags)


def _content(body: Json, schema_name: str) -> str:
    content = _optional_str(body, "Content", MAX_CONTENT)
    if not content:
        raise bad_request(f"Content is required for schema '{schema_name}'.")
    try:
        json.loads(content)
    except ValueError as exc:
        raise bad_request(f"Content of schema '{schema_name}' is not valid JSON: {exc}") from exc
    return content


def _type(body: Json, schema_name: str) -> str:
    # Leniency: any non-empty string is stored, not only AWS_TYPES.
    type_ = _optional_str(body, "Type", 100)
    if not type_:
        raise bad_request(
            f"Type is required for schema '{schema_name}' (one of {', '.join(AWS_TYPES)})."
        )
    return type_


def paginate(items: Sequence[T], key: Callable[[T], str], query: dict[str, str]) -> Json:
    """One page of ``items`` (already sorted by ``key``) plus an opaque ``NextToken``."""
    raw_limit = query.get("limit", str(MAX_LIMIT))
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}, got '{raw_limit}'.")
    token = query.get("nextToken")
    if token is not None:
        try:
            after = base64.b64decode(token, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            after = ""
        if not after:
            raise bad_request(f"nextToken '{token}' is not valid.")
        items = [item for item in items if key(item) > after]
    page = list(items[:limit])
    result: Json = {"Page": page}
    if len(items) > limit:
        result["NextToken"] = base64.urlsafe_b64encode(key(page[-1]).encode()).decode()
    return result


# --------------------------------------------------------------------------- registries


def _registry_body(region: str, registry: Registry) -> Json:
    body: Json = {
        "RegistryArn": registry_arn(region, registry.name),
        "RegistryName": registry.name,
        "tags": registry.tags,
    }
    if registry.description is not None:
        body["Description"] = registry.description
    return body


def create_registry(store: Store, req: Request) -> tuple[int, Json | None]:
    name = req.path["registry"]
    registries = store.registries(req.region)
    if name in registries:
        raise conflict(f"Registry '{name}' already exists.")
    registry = Registry(
        name, _optional_str(req.body, "Description", MAX_DESCRIPTION), _tags(req.body)
    )
    registries[name] = registry
    return 201, _registry_body(req.region, registry)


def describe_registry(store: Store, req: Request) -> tuple[int, Json | None]:
    return 200, _registry_body(req.region, store.registry(req.region, req.path["registry"]))


def list_registries(store: Store, req: Request) -> tuple[int, Json | None]:
    scope = req.query.get("scope", "LOCAL")
    if scope not in ("LOCAL", "AWS"):
        raise bad_request(f"scope must be LOCAL or AWS, got '{scope}'.")
    prefix = req.query.get("registryNamePrefix", "")
    # This fake hosts no AWS-owned registries (such as aws.events), so scope AWS is empty.
    registries = store.registries(req.region).values() if scope == "LOCAL" else []
    matching = sorted((r for r in registries if r.name.startswith(prefix)), key=lambda r: r.name)
    page = paginate(matching, lambda r: r.name, req.query)
    body: Json = {
        "Registries": [
            {
                "RegistryArn": registry_arn(req.region, r.name),
                "RegistryName": r.name,
                "tags": r.tags,
            }
            for r in page.pop("Page")
        ],
        **page,
    }
    return 200, body


def delete_registry(store: Store, req: Request) -> tuple[int, Json | None]:
    name = req.path["registry"]
    store.registry(req.region, name)
    del store.registries(req.region)[name]
    return 204, None


# --------------------------------------------------------------------------- schemas


def _schema_body(req: Request, schema: Schema, version: Version, content: bool) -> Json:
    body: Json = {
        "SchemaArn": schema_arn(req.region, req.path["registry"], schema.name),
        "SchemaName": schema.name,
        "SchemaVersion": str(version.number),
        "Type": version.type,
        "LastModified": _iso(schema.last_modified),
        "VersionCreatedDate": _iso(version.created),
        "tags": schema.tags,
    }
    if schema.description is not None:
        body["Description"] = schema.description
    if content:
        body["Content"] = version.content
    return body


def create_schema(store: Store, req: Request) -> tuple[int, Json | None]:
    registry_name, name = req.path["registry"], req.path["schema"]
    registry = store.registry(req.region, registry_name)
    if name in registry.schemas:
        raise conflict(f"Schema '{name}' already exists in registry '{registry_name}'.")
    content, type_ = _content(req.body, name), _type(req.body, name)
    description = _optional_str(req.body, "Description", MAX_DESCRIPTION)
    schema = Schema(name, description, _tags(req.body))
    version = schema.add_version(content, type_)
    registry.schemas[name] = schema
    return 201, _schema_body(req, schema, version, content=False)


def update_schema(store: Store, req: Request) -> tuple[int, Json | None]:
    name = req.path["schema"]
    schema = store.schema(req.region, req.path["registry"], name)
    latest = schema.latest
    content = _content(req.body, name) if "Content" in req.body else latest.content
    type_ = _type(req.body, name) if "Type" in req.body else latest.type
    _optional_str(req.body, "ClientTokenId", 36)  # accepted for idempotency, not needed here
    description = _optional_str(req.body, "Description", MAX_DESCRIPTION)
    if description is not None and description != schema.description:
        schema.description = description
        schema.last_modified = _now()
    if (content, type_) != (latest.content, latest.type):
        latest = schema.add_version(content, type_)
    return 200, _schema_body(req, schema, latest, content=False)


def describe_schema(store: Store, req: Request) -> tuple[int, Json | None]:
    registry_name, name = req.path["registry"], req.path["schema"]
    schema = store.schema(req.region, registry_name, name)
    wanted = req.query.get("schemaVersion")
    if wanted is None:
        return 200, _schema_body(req, schema, schema.latest, content=True)
    version = schema.versions.get(int(wanted)) if wanted.isdigit() else None
    if version is None:
        raise not_found(
            f"Version '{wanted}' of schema '{name}' does not exist in registry '{registry_name}'."
        )
    return 200, _schema_body(req, schema, version, content=True)


def list_schemas(store: Store, req: Request) -> tuple[int, Json | None]:
    registry_name = req.path["registry"]
    registry = store.registry(req.region, registry_name)
    prefix = req.query.get("schemaNamePrefix", "")
    matching = sorted(
        (s for s in registry.schemas.values() if s.name.startswith(prefix)), key=lambda s: s.name
    )
    page = paginate(matching, lambda s: s.name, req.query)
    body: Json = {
        "Schemas": [
            {
                "SchemaArn": schema_arn(req.region, registry_name, s.name),
                "SchemaName": s.name,
                "LastModified": _iso(s.last_modified),
                "VersionCount": len(s.versions),
                "tags": s.tags,
            }
            for s in page.pop("Page")
        ],
        **page,
    }
    return 200, body


def list_schema_versions(store: Store, req: Request) -> tuple[int, Json | None]:
    registry_name, name = req.path["registry"], req.path["schema"]
    schema = store.schema(req.region, registry_name, name)
    versions = [schema.versions[n] for n in sorted(schema.versions)]
    page = paginate(versions, lambda v: f"{v.number:012d}", req.query)
    body: Json = {
        "SchemaVersions": [
            {
                "SchemaArn": schema_arn(req.region, registry_name, name),
                "SchemaName": name,
                "SchemaVersion": str(v.number),
                "Type": v.type,
            }
            for v in page.pop("Page")
        ],
        **page,
    }
    return 200, body


def delete_schema(store: Store, req: Request) -> tuple[int, Json | None]:
    registry_name, name = req.path["registry"], req.path["schema"]
    store.schema(req.region, registry_name, name)
    del store.registry(req.region, registry_name).schemas[name]
    return 204, None


def delete_schema_version(store: Store, req: Request) -> tuple[int, Json | None]:
    registry_name, name, wanted = req.path["registry"], req.path["schema"], req.path["version"]
    schema = store.schema(req.region, registry_name, name)
    number = int(wanted) if wanted.isdigit() else None
    if number is None or number not in schema.versions:
        raise not_found(
            f"Version '{wanted}' of schema '{name}' does not exist in registry '{registry_name}'."
        )
    if len(schema.versions) == 1:
        raise bad_request(
            f"Version '{wanted}' is the only version of schema '{name}' in registry "
            f"'{registry_name}'; delete the schema instead."
        )
    del schema.versions[number]
    return 204, None


# --------------------------------------------------------------------------- HTTP

Handler = Callable[[Store, Request], tuple[int, Json | None]]

_REG = r"/v1/registries/name/(?P<registry>[^/]+)"
_SCH = _REG + r"/schemas/name/(?P<schema>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/v1/registries"), list_registries),
    ("POST", re.compile(_REG), create_registry),
    ("GET", re.compile(_REG), describe_registry),
    ("DELETE", re.compile(_REG), delete_registry),
    ("GET", re.compile(_REG + r"/schemas"), list_schemas),
    ("POST", re.compile(_SCH), create_schema),
    ("PUT", re.compile(_SCH), update_schema),
    ("GET", re.compile(_SCH), describe_schema),
    ("DELETE", re.compile(_SCH), delete_schema),
    ("GET", re.compile(_SCH + r"/versions"), list_schema_versions),
    ("DELETE", re.compile(_SCH + r"/version/(?P<version>[^/]+)"), delete_schema_version),
]


def _route(method: str, path: str) -> tuple[Handler, dict[str, str]]:
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return handler, {k: unquote(v) for k, v in match.groupdict().items()}
    raise not_found(f"No route for {method} {path}.")


_REGION_IN_AUTH = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[^/,\s]+)/")


class SchemaRegistryServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that owns one Store."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], verbose: bool = False) -> None:
        self.store = Store()
        self.verbose = verbose
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)


class _SchemaRegistryServer6(SchemaRegistryServer):
    address_family = socket.AF_INET6


class _RequestHandler(BaseHTTPRequestHandler):
    server_version = "localaws-schema-registry"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        if cast(SchemaRegistryServer, self.server).verbose:
            super().log_message(format, *args)

    def _dispatch(self) -> None:
        try:
            status, body = self._handle()
        except ApiError as err:
            self._send(err.status, {"Code": err.code, "Message": err.message}, err.code)
        except Exception as exc:  # never an HTML traceback: answer in the AWS error shape
            code = "InternalServerErrorException"
            message = f"Internal error: {type(exc).__name__}: {exc}"
            self._send(500, {"Code": code, "Message": message}, code)
        else:
            self._send(status, body)

    def _handle(self) -> tuple[int, Json | None]:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.command == "GET" and url.path == "/health":
            return 200, {"status": "ok"}
        handler, params = _route(self.command, url.path)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise bad_request(f"Request body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object.")
        request = Request(
            region=self._region(),
            path=params,
            query={k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
            body=body,
        )
        store = cast(SchemaRegistryServer, self.server).store
        with store.lock:
            return handler(store, request)

    def _region(self) -> str:
        found = _REGION_IN_AUTH.search(self.headers.get("Authorization", ""))
        return found.group("region") if found else DEFAULT_REGION

    def _send(self, status: int, body: Json | None, error_type: str | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# --------------------------------------------------------------------------- entry points


def check_loopback(host: str) -> None:
    """Raise ValueError unless ``host`` is a loopback address: this project binds nothing else."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(
        f"refusing to bind to {host!r}: the fake Schema Registry binds to loopback only "
        "(127.x.x.x, ::1 or localhost)"
    )


def make_server(
    host: str = "127.0.0.1", port: int = 0, verbose: bool = False
) -> tuple[SchemaRegistryServer, str]:
    """Bind (but do not start) a server; return it and its base URL."""
    check_loopback(host)
    ipv6 = ":" in host
    cls = _SchemaRegistryServer6 if ipv6 else SchemaRegistryServer
    server = cls((host, port), verbose=verbose)
    bound_port = server.server_address[1]
    url_host = f"[{host}]" if ipv6 else host
    return server, f"http://{url_host}:{bound_port}"


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve in a daemon thread; return the server and its base URL. Stop with shutdown()."""
    server, url = make_server(host, port)
    threading.Thread(target=server.serve_forever, name="schema-registry", daemon=True).start()
    return server, url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localaws.schema_registry",
        description="Serve a fake AWS EventBridge Schema Registry on a loopback address.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=14567, help="port, 0 for any free one")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    try:
        server, url = make_server(args.host, args.port, verbose=args.verbose)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever() to return, so it cannot run on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"schema-registry listening on {url}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
