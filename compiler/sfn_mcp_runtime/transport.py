"""How a generated server is run: its command line (stdio by default, or streamable HTTP with
``--host``, ``--port`` and ``--stateless``), the optional bearer token for HTTP, and logging.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from typing import Any

import anyio
from mcp.server import Server
from mcp.server.stdio import stdio_server

logger = logging.getLogger("sfn_mcp.runtime")


TOKEN_VARIABLE = "SFN_MCP_HTTP_TOKEN"


class BearerToken:
    """ASGI wrapper: with SFN_MCP_HTTP_TOKEN set, every HTTP request must carry
    ``Authorization: Bearer <token>``; others get 401 before reaching the MCP app."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = b'{"error": "missing or wrong bearer token"}'
                await send({
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b"Bearer"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                })  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 1 to 65535")
    return int(text)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(server: Server[Any], argv: list[str] | None = None, *, prog: str | None = None) -> None:
    """Command line of a generated server: stdio by default, or streamable HTTP."""
    parser = argparse.ArgumentParser(prog=prog, description=f"MCP server {server.name}")
    parser.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default="stdio",
        help="stdio (default) for desktop clients, or http for streamable HTTP at /mcp",
    )
    parser.add_argument("--host", help="HTTP only (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, help="HTTP only (default 8000)")
    parser.add_argument(
        "--stateless", action="store_true", help="HTTP only: no session state between requests"
    )
    args = parser.parse_args(argv)
    if args.transport != "http" and (args.host or args.port or args.stateless):
        parser.error("--host, --port and --stateless need --transport http")
    args.host = args.host or "127.0.0.1"
    args.port = args.port or 8000
    level = os.environ.get("SFN_MCP_LOG_LEVEL", "WARNING").upper()
    known_level = level in logging.getLevelNamesMapping()
    logging.basicConfig(
        level=level if known_level else "WARNING",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not known_level:
        logger.warning("ignoring SFN_MCP_LOG_LEVEL=%r: use DEBUG, INFO, WARNING or ERROR", level)
    if args.transport == "http":
        import uvicorn

        token = os.environ.get(TOKEN_VARIABLE, "").strip()
        if args.host not in LOOPBACK and not token:
            logger.warning(
                "serving on %s without %s: anyone who reaches the port can run the workflows "
                "with this process's AWS credentials",
                args.host,
                TOKEN_VARIABLE,
            )
        app: Any = server.streamable_http_app(stateless_http=args.stateless, host=args.host)
        if token:
            app = BearerToken(app, token)
        host = f"[{args.host}]" if ":" in args.host else args.host
        guarded = " (bearer token required)" if token else ""
        print(
            f"{server.name}: serving MCP at http://{host}:{args.port}/mcp{guarded}",
            file=sys.stderr,
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return

    async def serve_stdio() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(serve_stdio)
