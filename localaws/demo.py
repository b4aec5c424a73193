"""The demo: start a generated server over stdio with the MCP SDK client and call every tool,
then retry a call with an idempotency key and follow an execution up with get_execution.

Run by ``make demo`` after the local AWS is up and the server has been generated::

    python -m localaws.demo --package-dir .aws-local/demo --package ai_workflows
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import TextContent

ORDER = {
    "orderId": "ORD-10042",
    "customer": {"customerId": "CUST-77", "email": "ada@example.com", "tier": "gold"},
    "items": [
        {"sku": "KB-1001", "quantity": 1, "unitPrice": 89.5},
        {"sku": "MS-2002", "quantity": 2, "unitPrice": 25.0},
    ],
    "currency": "EUR",
    "shippingAddress": {
        "street": "1 Harbour Road",
        "city": "Dublin",
        "postalCode": "D02 X285",
        "country": "IE",
    },
}

CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("an order that is in stock", "order_processing", ORDER),
    (
        "an order with an out-of-stock item (the workflow ends FAILED)",
        "order_processing",
        dict(ORDER, orderId="ORD-10043", items=[{"sku": "OOS-404", "quantity": 1, "unitPrice": 9}]),
    ),
    (
        "an invalid order (rejected before any execution starts)",
        "order_processing",
        dict(ORDER, currency="JPY", items=[]),
    ),
    ("the daily ETL for 2026-11-20", "daily_etl", {"runDate": "2026-11-20",
                                                  "tables": ["orders", "customers", "inventory"]}),
    (
        "a document analysis (EXPRESS)",
        "document_analysis",
        {"bucket": "ai-workflows-documents", "key": "docs/incident-report-2026-11-18.txt",
         "maxKeywords": 5},
    ),
    (
        "a support ticket triage (JSONata, no schema)",
        "support_triage",
        {"subject": "Checkout is down", "body": "Customers see an outage since 9:00",
         "customerTier": "platinum"},
    ),
]  # fmt: skip


def show(value: Any, limit: int = 900) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "\n  …"


async def run(package_dir: Path, package: str) -> int:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", package], cwd=str(package_dir), env=dict(os.environ)
    )
    failures = 0
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        listed = (await session.list_tools()).tools
        print(f"\nConnected to {init.server_info.name} {init.server_info.version} over stdio.")
        print(f"{len(listed)} tools: {', '.join(t.name for t in listed)}")
        for tool in listed:
            required = ", ".join(tool.input_schema.get("required", [])) or "none"
            print(f"  - {tool.name}: required fields: {required}")
        for label, name, arguments in CALLS:
            print(f"\n=== {name}: {label}")
            started = time.monotonic()
            result = await session.call_tool(name, arguments, progress_callback=on_progress)
            took = time.monotonic() - started
            data = result.structured_content
            if data is not None:
                print(f"status {data['status']} in {took:.2f} s, isError={result.is_error}")
                if data.get("output") is not None:
                    print(f"output: {show(data['output'])}")
                if data.get("error"):
                    print(f"error: {data['error']}\ncause: {data['cause']}")
            else:
                block = result.content[0]
                print(f"isError={result.is_error} in {took:.2f} s")
                print(block.text if isinstance(block, TextContent) else block)
            expected_error = "FAILED" in label or "invalid" in label
            failures += result.is_error != expected_error
        failures += await retry_and_follow_up(session)
    print("\nDemo finished." if not failures else f"\n{failures} call(s) did not go as expected.")
    return 1 if failures else 0


async def on_progress(progress: float, total: float | None, message: str | None) -> None:
    of = f" of {total:g}" if total else ""
    print(f"  progress {progress:.1f}{of} s: {message}")


async def retry_and_follow_up(session: ClientSession) -> int:
    """The same idempotency key twice starts one execution; get_execution reads it back."""
    arguments = {"runDate": "2026-11-20", "tables": ["orders"], "idempotency_key": "etl-2026-11-20"}
    print("\n=== daily_etl twice with idempotency_key etl-2026-11-20 (a client retry)")
    first = await session.call_tool("daily_etl", arguments)
    again = await session.call_tool("daily_etl", arguments)
    arns = [(r.structured_content or {}).get("executionArn") for r in (first, again)]
    print(f"first:  {arns[0]}")
    print(f"retry:  {arns[1]}")
    block = again.content[0]
    if isinstance(block, TextContent):
        print(block.text.splitlines()[0])
    print(f"\n=== get_execution {arns[0]}")
    status = await session.call_tool("get_execution", {"execution_arn": arns[0]})
    data = status.structured_content or {}
    print(f"status {data.get('status')}, output: {show(data.get('output'), 300)}")
    foreign = "arn:aws:states:us-east-1:000000000000:execution:someone-else:run-1"
    print(f"\n=== get_execution {foreign} (not this server's)")
    refused = await session.call_tool("get_execution", {"execution_arn": foreign})
    block = refused.content[0]
    print(f"isError={refused.is_error}: {block.text if isinstance(block, TextContent) else block}")
    ok = arns[0] == arns[1] and not first.is_error and data.get("status") == "SUCCEEDED"
    return 0 if ok and refused.is_error else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--package-dir", type=Path, required=True)
    parser.add_argument("--package", required=True)
    args = parser.parse_args()
    sys.exit(anyio.run(run, args.package_dir, args.package))


if __name__ == "__main__":
    main()
