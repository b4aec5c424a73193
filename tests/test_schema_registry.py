"""Tests for the fake EventBridge Schema Registry, driven by a real boto3 ``schemas`` client."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from localaws.schema_registry import check_loopback, main, start_in_thread

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = json.dumps({"openapi": "3.0.0", "info": {"title": "Order", "version": "1.0.0"}})
OPENAPI_V2 = json.dumps({"openapi": "3.0.0", "info": {"title": "Order", "version": "2.0.0"}})

Client = Any  # mypy_boto3_schemas may not be installed everywhere
MakeClient = Callable[..., Client]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server, base_url = start_in_thread()
    yield base_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_client(url: str) -> MakeClient:
    def make(region: str = "us-east-1", **config: Any) -> Client:
        return boto3.client(
            "schemas",
            endpoint_url=url,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, **config),
        )

    return make


@pytest.fixture
def client(make_client: MakeClient) -> Client:
    return make_client()


@pytest.fixture
def registry(client: Client, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh registry per test (the server is shared by the module), deleted afterwards."""
    name = f"reg-{request.node.name}"[:60].replace("[", "-").replace("]", "")
    client.create_registry(RegistryName=name)
    yield name
    with contextlib.suppress(client.exceptions.NotFoundException):
        client.delete_registry(RegistryName=name)


def _get(url: str) -> tuple[int, dict[str, str], Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


# --------------------------------------------------------------------------- registries


def test_registry_lifecycle(client: Client) -> None:
    created = client.create_registry(
        RegistryName="orders", Description="order events", Tags={"team": "a"}
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["RegistryArn"] == "arn:aws:schemas:us-east-1:000000000000:registry/orders"
    assert created["RegistryName"] == "orders"
    assert created["Tags"] == {"team": "a"}

    described = client.describe_registry(RegistryName="orders")
    assert described["Description"] == "order events"
    assert described["Tags"] == {"team": "a"}
    names = [r["RegistryName"] for r in client.list_registries()["Registries"]]
    assert "orders" in names

    with pytest.raises(client.exceptions.ConflictException) as conflict:
        client.create_registry(RegistryName="orders")
    assert conflict.value.response["Error"]["Code"] == "ConflictException"
    assert "orders" in conflict.value.response["Error"]["Message"]

    client.delete_registry(RegistryName="orders")
    with pytest.raises(client.exceptions.NotFoundException) as missing:
        client.describe_registry(RegistryName="orders")
    error = missing.value.response["Error"]
    assert error["Code"] == "NotFoundException"
    assert "orders" in error["Message"]
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_registry(RegistryName="orders")


def test_list_registries_prefix_scope_and_paginator(client: Client) -> None:
    names = [f"paged-reg-{i:02d}" for i in range(12)]
    for name in names:
        client.create_registry(RegistryName=name)
    try:
        pages = list(
            client.get_paginator("list_registries").paginate(
                RegistryNamePrefix="paged-reg-", PaginationConfig={"PageSize": 5}
            )
        )
        assert [len(p["Registries"]) for p in pages] == [5, 5, 2]
        assert [r["RegistryName"] for p in pages for r in p["Registries"]] == names
        assert client.list_registries(Scope="AWS")["Registries"] == []
    finally:
        for name in names:
            client.delete_registry(RegistryName=name)


def test_delete_registry_deletes_its_schemas(client: Client) -> None:
    client.create_registry(RegistryName="doomed")
    client.create_schema(RegistryName="doomed", SchemaName="s", Type="OpenApi3", Content="{}")
    client.delete_registry(RegistryName="doomed")
    client.create_registry(RegistryName="doomed")
    try:
        assert client.list_schemas(RegistryName="doomed")["Schemas"] == []
    finally:
        client.delete_registry(RegistryName="doomed")


# --------------------------------------------------------------------------- schemas


def test_create_and_describe_schema(client: Client, registry: str) -> None:
    created = client.create_schema(
        RegistryName=registry,
        SchemaName="Order.Created@v1",
        Type="OpenApi3",
        Content=OPENAPI,
        Description="an order",
        Tags={"k": "v"},
    )
    arn = f"arn:aws:schemas:us-east-1:000000000000:schema/{registry}/Order.Created@v1"
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["SchemaArn"] == arn
    assert created["SchemaVersion"] == "1"
    assert created["Type"] == "OpenApi3"
    assert "Content" not in created

    described = client.describe_schema(RegistryName=registry, SchemaName="Order.Created@v1")
    assert described["SchemaArn"] == arn
    assert described["SchemaName"] == "Order.Created@v1"
    assert described["Content"] == OPENAPI
    assert described["SchemaVersion"] == "1"
    assert described["Description"] == "an order"
    assert described["Tags"] == {"k": "v"}
    assert described["VersionCreatedDate"] == created["VersionCreatedDate"]
    assert described["LastModified"].tzinfo is not None

    with pytest.raises(client.exceptions.ConflictException) as conflict:
        client.create_schema(
            RegistryName=registry, SchemaName="Order.Created@v1", Type="OpenApi3", Content="{}"
        )
    assert "Order.Created@v1" in conflict.value.response["Error"]["Message"]


def test_update_creates_versions_only_on_change(client: Client, registry: str) -> None:
    client.create_schema(RegistryName=registry, SchemaName="s", Type="OpenApi3", Content=OPENAPI)

    same = client.update_schema(RegistryName=registry, SchemaName="s", Content=OPENAPI)
    assert same["SchemaVersion"] == "1"
    described_only = client.update_schema(RegistryName=registry, SchemaName="s", Description="d")
    assert described_only["SchemaVersion"] == "1"
    assert described_only["Description"] == "d"

    updated = client.update_schema(RegistryName=registry, SchemaName="s", Content=OPENAPI_V2)
    assert updated["SchemaVersion"] == "2"
    latest = client.describe_schema(RegistryName=registry, SchemaName="s")
    assert (latest["SchemaVersion"], latest["Content"]) == ("2", OPENAPI_V2)
    first = client.describe_schema(RegistryName=registry, SchemaName="s", SchemaVersion="1")
    assert (first["SchemaVersion"], first["Content"]) == ("1", OPENAPI)

    versions = client.list_schema_versions(RegistryName=registry, SchemaName="s")
    assert [(v["SchemaVersion"], v["Type"]) for v in versions["SchemaVersions"]] == [
        ("1", "OpenApi3"),
        ("2", "OpenApi3"),
    ]
    summary = client.list_schemas(RegistryName=registry)["Schemas"][0]
    assert summary["SchemaName"] == "s"
    assert summary["VersionCount"] == 2

    with pytest.raises(client.exceptions.NotFoundException) as missing:
        client.describe_schema(RegistryName=registry, SchemaName="s", SchemaVersion="9")
    assert "'9'" in missing.value.response["Error"]["Message"]
    with pytest.raises(client.exceptions.NotFoundException) as missing:
        client.update_schema(RegistryName=registry, SchemaName="nope", Content="{}")
    assert "nope" in missing.value.response["Error"]["Message"]


def test_delete_schema_and_versions(client: Client, registry: str) -> None:
    client.create_schema(RegistryName=registry, SchemaName="s", Type="OpenApi3", Content="{}")
    client.update_schema(RegistryName=registry, SchemaName="s", Content='{"a": 1}')
    client.update_schema(RegistryName=registry, SchemaName="s", Content='{"a": 2}')

    resp = client.delete_schema_version(RegistryName=registry, SchemaName="s", SchemaVersion="3")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    latest = client.describe_schema(RegistryName=registry, SchemaName="s")
    assert (latest["SchemaVersion"], latest["Content"]) == ("2", '{"a": 1}')
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_schema_version(RegistryName=registry, SchemaName="s", SchemaVersion="3")
    # Numbers are not reused: the next change becomes version 4.
    bumped = client.update_schema(RegistryName=registry, SchemaName="s", Content='{"b": 1}')
    assert bumped["SchemaVersion"] == "4"

    client.delete_schema_version(RegistryName=registry, SchemaName="s", SchemaVersion="1")
    client.delete_schema_version(RegistryName=registry, SchemaName="s", SchemaVersion="2")
    with pytest.raises(client.exceptions.BadRequestException) as only:
        client.delete_schema_version(RegistryName=registry, SchemaName="s", SchemaVersion="4")
    assert "only version" in only.value.response["Error"]["Message"]

    client.delete_schema(RegistryName=registry, SchemaName="s")
    with pytest.raises(client.exceptions.NotFoundException):
        client.describe_schema(RegistryName=registry, SchemaName="s")
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_schema(RegistryName=registry, SchemaName="s")
    with pytest.raises(client.exceptions.NotFoundException):
        client.list_schema_versions(RegistryName=registry, SchemaName="s")


def test_schema_in_missing_registry_is_not_found(client: Client) -> None:
    with pytest.raises(client.exceptions.NotFoundException) as missing:
        client.create_schema(RegistryName="ghost", SchemaName="s", Type="OpenApi3", Content="{}")
    assert "ghost" in missing.value.response["Error"]["Message"]
    with pytest.raises(client.exceptions.NotFoundException):
        client.list_schemas(RegistryName="ghost")


def test_types_aws_and_lenient(client: Client, registry: str) -> None:
    draft4 = client.create_schema(
        RegistryName=registry,
        SchemaName="d4",
        Type="JSONSchemaDraft4",
        Content='{"type": "object"}',
    )
    assert draft4["Type"] == "JSONSchemaDraft4"
    # Leniency: an unsupported format is stored unchanged so callers can test their errors.
    client.create_schema(RegistryName=registry, SchemaName="avro", Type="Avro", Content="{}")
    assert client.describe_schema(RegistryName=registry, SchemaName="avro")["Type"] == "Avro"


# --------------------------------------------------------------------------- pagination


def test_list_schemas_paginator_and_prefix(client: Client, registry: str) -> None:
    names = [f"schema-{i:02d}" for i in range(25)]
    for name in names:
        client.create_schema(RegistryName=registry, SchemaName=name, Type="OpenApi3", Content="{}")
    client.create_schema(RegistryName=registry, SchemaName="other", Type="OpenApi3", Content="{}")

    paginator = client.get_paginator("list_schemas")
    pages = list(
        paginator.paginate(
            RegistryName=registry, SchemaNamePrefix="schema-", PaginationConfig={"PageSize": 10}
        )
    )
    assert [len(p["Schemas"]) for p in pages] == [10, 10, 5]
    assert "NextToken" not in pages[-1]
    assert [s["SchemaName"] for p in pages for s in p["Schemas"]] == names

    everything = paginator.paginate(RegistryName=registry).build_full_result()
    assert len(everything["Schemas"]) == 26

    first = client.list_schemas(RegistryName=registry, Limit=3)
    second = client.list_schemas(RegistryName=registry, Limit=3, NextToken=first["NextToken"])
    assert [s["SchemaName"] for s in second["Schemas"]] == sorted([*names, "other"])[3:6]


def test_list_schema_versions_paginator(client: Client, registry: str) -> None:
    client.create_schema(RegistryName=registry, SchemaName="s", Type="OpenApi3", Content='{"v": 1}')
    for v in range(2, 13):
        client.update_schema(RegistryName=registry, SchemaName="s", Content=json.dumps({"v": v}))
    pages = list(
        client.get_paginator("list_schema_versions").paginate(
            RegistryName=registry, SchemaName="s", PaginationConfig={"PageSize": 5}
        )
    )
    assert [len(p["SchemaVersions"]) for p in pages] == [5, 5, 2]
    versions = [v["SchemaVersion"] for p in pages for v in p["SchemaVersions"]]
    assert versions == [str(n) for n in range(1, 13)]  # numeric, not lexical, order


# --------------------------------------------------------------------------- bad requests


def test_bad_requests(client: Client, make_client: MakeClient, registry: str) -> None:
    with pytest.raises(client.exceptions.BadRequestException) as not_json:
        client.create_schema(RegistryName=registry, SchemaName="s", Type="OpenApi3", Content="{")
    assert not_json.value.response["Error"]["Code"] == "BadRequestException"
    assert "'s'" in not_json.value.response["Error"]["Message"]
    assert not_json.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    client.create_schema(RegistryName=registry, SchemaName="ok", Type="OpenApi3", Content="{}")
    with pytest.raises(client.exceptions.BadRequestException):
        client.update_schema(RegistryName=registry, SchemaName="ok", Content="not json")
    for limit in (0, 101):
        with pytest.raises(client.exceptions.BadRequestException) as bad_limit:
            client.list_schemas(RegistryName=registry, Limit=limit)
        assert "limit" in bad_limit.value.response["Error"]["Message"]
    with pytest.raises(client.exceptions.BadRequestException):
        client.list_schemas(RegistryName=registry, NextToken="%%%")

    # botocore validates required members itself; switch that off to reach the server.
    raw = make_client(parameter_validation=False)
    with pytest.raises(raw.exceptions.BadRequestException) as no_type:
        raw.create_schema(RegistryName=registry, SchemaName="s", Content="{}")
    assert "Type" in no_type.value.response["Error"]["Message"]
    with pytest.raises(raw.exceptions.BadRequestException) as no_content:
        raw.create_schema(RegistryName=registry, SchemaName="s", Type="OpenApi3")
    assert "Content" in no_content.value.response["Error"]["Message"]
    with pytest.raises(raw.exceptions.BadRequestException):
        raw.create_schema(RegistryName=registry, SchemaName="s", Type="", Content="{}")
    with pytest.raises(client.exceptions.NotFoundException):
        client.describe_schema(RegistryName=registry, SchemaName="s")


# --------------------------------------------------------------------------- regions, env


def test_regions_are_isolated(make_client: MakeClient) -> None:
    east, west = make_client("us-east-1"), make_client("eu-west-1")
    east.create_registry(RegistryName="regional")
    try:
        assert "regional" not in [r["RegistryName"] for r in west.list_registries()["Registries"]]
        with pytest.raises(west.exceptions.NotFoundException):
            west.describe_registry(RegistryName="regional")
        created = west.create_registry(RegistryName="regional")  # no conflict across regions
        assert created["RegistryArn"] == "arn:aws:schemas:eu-west-1:000000000000:registry/regional"
        west.delete_registry(RegistryName="regional")
        assert east.describe_registry(RegistryName="regional")["RegistryName"] == "regional"
    finally:
        east.delete_registry(RegistryName="regional")


def test_endpoint_from_environment(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SCHEMAS", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    client = boto3.session.Session().client("schemas")
    assert client.meta.endpoint_url == url
    client.create_registry(RegistryName="from-env")
    try:
        assert client.describe_registry(RegistryName="from-env")["RegistryName"] == "from-env"
    finally:
        client.delete_registry(RegistryName="from-env")


# --------------------------------------------------------------------------- raw HTTP


def test_health_and_unknown_routes(url: str) -> None:
    assert _get(f"{url}/health")[::2] == (200, {"status": "ok"})
    status, headers, body = _get(f"{url}/no/such/route")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "NotFoundException"
    assert body["Code"] == "NotFoundException"
    assert "/no/such/route" in body["Message"]


def test_malformed_body_is_a_json_bad_request(url: str) -> None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("POST", "/v1/registries/name/x", body=b"[not json")
        resp = conn.getresponse()
        assert resp.status == 400
        assert resp.getheader("x-amzn-ErrorType") == "BadRequestException"
        assert json.loads(resp.read())["Code"] == "BadRequestException"
    finally:
        conn.close()


def test_loopback_only() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        check_loopback(host)
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.com"):
        with pytest.raises(ValueError, match="loopback"):
            check_loopback(host)
    with pytest.raises(SystemExit) as refused:
        main(["--host", "0.0.0.0", "--port", "0"])
    assert refused.value.code == 2


def test_cli_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "localaws.schema_registry", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        prefix = "schema-registry listening on "
        assert line.startswith(prefix + "http://127.0.0.1:")
        assert _get(line.removeprefix(prefix) + "/health")[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert proc.stderr is not None
        assert proc.stderr.read() == ""  # quiet: no per-request log lines
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
