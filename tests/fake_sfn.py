"""A scripted Step Functions endpoint for the runtime's tests (real boto3 calls over HTTP on
127.0.0.1), and the small tools and workflows the runtime tests share. The ``sfn`` fixture
(tests/conftest.py) serves one per test."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from mcp.types import TextContent
from pydantic import BaseModel, ConfigDict, Field

from sfn_mcp_runtime import aws, definitions, execution
from sfn_mcp_runtime.definitions import Tool, Workflow
from sfn_mcp_runtime.execution import run_workflow
from sfn_mcp_runtime.server import build_server

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:"
# A responder answers a status and a JSON body, or raw bytes as the body; status RESET closes
# the connection with a TCP reset instead of answering (after the request has arrived).
Responder = Callable[[dict[str, Any]], tuple[int, dict[str, Any] | bytes]]
RESET = -1


class FakeSfn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], str]] = []
        self.routes: dict[str, Responder] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                action = self.headers["X-Amz-Target"].split(".")[-1]
                fake.requests.append((action, body, self.headers["Host"]))
                status, payload = fake.routes.get(action, lambda _: (400, {}))(body)
                if status == RESET:
                    linger = struct.pack("ii", 1, 0)  # close at once, with a reset
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.connection.close()
                    self.close_connection = True
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                if status >= 400 and isinstance(payload, dict):
                    self.send_header("x-amzn-ErrorType", str(payload.get("__type", "")))
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def actions(self) -> list[str]:
        return [action for action, _, _ in self.requests]


def serve_fake_sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSfn]:
    """A running FakeSfn that this process's boto3 clients reach (the ``sfn`` fixture's body)."""
    fake = FakeSfn()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    for key in ("AWS_PROFILE", "AWS_DISABLE_HOST_PREFIX_INJECTION", "AWS_ENDPOINT_URL_SFN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fake.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")  # must not make StartSyncExecution retry
    monkeypatch.setattr(aws, "CLIENTS", aws._Clients())
    yield fake
    fake.server.shutdown()


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(alias="orderId", pattern="^ORD-[0-9]+$")
    quantity: int = Field(ge=1)


EXPRESS = Workflow("quick", ARN + "quick", "EXPRESS")
STANDARD = Workflow("slow", ARN + "slow", "STANDARD", max_wait_seconds=0.6)


def server_with(workflow: Workflow, output_model: type[BaseModel] | None = None) -> Any:
    async def run(
        arguments: Order, *, idempotency_key: str | None = None
    ) -> definitions.ExecutionResult:
        payload = execution.workflow_input(arguments)
        return await run_workflow(workflow, payload, idempotency_key=idempotency_key)

    tool = Tool(
        name="orders",
        title="Orders",
        description="d",
        workflow=workflow,
        input_model=Order,
        run=run,
        output_model=output_model,
    )
    return build_server("test", version="1", instructions="i", tools=(tool,))


def text_of(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


GOOD = {"orderId": "ORD-1", "quantity": 2}


STANDARD_ARN = "arn:aws:states:eu-west-1:123456789012:execution:slow:"


def described(body: dict[str, Any], status: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"executionArn": body["executionArn"], "status": status, "startDate": 0, **extra}
