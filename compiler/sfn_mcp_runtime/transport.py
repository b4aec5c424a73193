"""How a generated server is run: its command line (stdio by default, or streamable HTTP with
``--host``, ``--port`` and ``--stateless``), the optional bearer token for HTTP, and logging.
"""

from __future__ import annotations

import argparse
import gc
import hmac
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, cast

import anyio
from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings

from .selection import MAX_PAGE_SIZE, SURFACES, View, ViewError, parse_tag

logger = logging.getLogger("sfn_mcp.runtime")


TOKEN_VARIABLE = "SFN_MCP_HTTP_TOKEN"


class BearerToken:
    """ASGI wrapper: with SFN_MCP_HTTP_TOKEN set, every HTTP request must carry
    ``Authorization: Bearer <token>`` (the scheme in any case, as RFC 9110 has it); others get
    401 before reaching the MCP app."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = token.encode()

    def _authorized(self, header: bytes) -> bool:
        scheme, _, given = header.strip().partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self.expected)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            header = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not self._authorized(header):
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


MAX_SESSIONS = 200
SESSION_IDLE_SECONDS = 600.0


class SessionGuard:
    """ASGI wrapper that keeps a flood of sessions from locking real clients out: at the session
    limit, a request that opens a new session first closes the session that has been idle
    longest (a client whose session is closed gets 404 and, as the protocol has it, starts a new
    one). Sessions with a request in flight are never closed. It reads the SDK session
    manager's table of open sessions (mcp 2.x)."""

    def __init__(self, app: Any, server: Server[Any], limit: int) -> None:
        self.app = app
        self.server = server
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST":
            headers = dict(scope.get("headers") or [])
            if b"mcp-session-id" not in headers:
                await self._make_room()
        await self.app(scope, receive, send)

    async def _make_room(self) -> None:
        manager = self.server.session_manager
        sessions: dict[str, Any] = getattr(manager, "_server_instances", {})
        if len(sessions) < self.limit:
            return
        idle = [
            (transport.idle_scope.deadline, session_id, transport)
            for session_id, transport in list(sessions.items())
            if transport.idle_scope is not None and transport.idle_scope.deadline != float("inf")
        ]
        for _, session_id, transport in sorted(idle, key=lambda item: item[0])[
            : len(sessions) - self.limit + 1
        ]:
            logger.info("session limit reached: closing the longest idle session %s", session_id)
            await manager._discard_session(session_id, transport)


def http_token(env: Mapping[str, str] = os.environ) -> str | None:
    """The bearer token from SFN_MCP_HTTP_TOKEN; a variable that is set but blank is refused
    (it would otherwise turn authentication off without a word)."""
    raw = env.get(TOKEN_VARIABLE)
    if raw is None:
        return None
    token = raw.strip()
    if not token or any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise SystemExit(
            f"{TOKEN_VARIABLE} is set but {'blank' if not token else 'not printable ASCII'}: "
            "give it a secret value, or unset it to serve without a token"
        )
    return token


def transport_security(
    host: str, allowed_hosts: list[str], allowed_origins: list[str]
) -> TransportSecuritySettings:
    """Host and Origin checks whatever the bind address (the MCP specification: servers MUST
    validate Origin). Loopback names are always allowed; a specific bind address is too; for
    0.0.0.0 or :: only what ``--allowed-host`` / ``--allowed-origin`` name."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
    if host not in ("0.0.0.0", "::", *LOOPBACK):
        bracketed = f"[{host}]" if ":" in host else host
        hosts += [bracketed, f"{bracketed}:*"]
    hosts += [h for h in allowed_hosts if h not in hosts]
    origins = [f"http://{h}" for h in ("127.0.0.1:*", "localhost:*", "[::1]:*")]
    origins += [o.rstrip("/") for o in allowed_origins]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 to 100000")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number from 1 to 65535")
    return int(text)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _oauth(
    parser: argparse.ArgumentParser, args: argparse.Namespace, token: str | None
) -> tuple[Any, Any] | None:
    """The SDK's AuthSettings and our JWT verifier in OAuth mode, or None."""
    if not args.oauth_issuer:
        if args.resource_url or args.jwks_uri or args.required_scope or args.run_scope:
            parser.error(
                "--resource-url, --jwks-uri, --required-scope and --run-scope need --oauth-issuer"
            )
        return None
    if token:
        parser.error(f"choose one: {TOKEN_VARIABLE} (a static token) or --oauth-issuer")
    if not args.resource_url:
        parser.error("--oauth-issuer needs --resource-url, the URL clients reach this server at")
    from mcp.server.auth.settings import AuthSettings

    from .oauth import JwtVerifier, OAuthSetupError, discover_jwks_uri
    from .server import SCOPES

    try:
        jwks = args.jwks_uri or discover_jwks_uri(args.oauth_issuer)
    except OAuthSetupError as exc:
        raise SystemExit(f"{server_label(args)}: {exc}") from None
    SCOPES.run = args.run_scope
    auth = AuthSettings(
        issuer_url=args.oauth_issuer,
        resource_server_url=args.resource_url,
        required_scopes=args.required_scope or None,
        validate_token_resource=False,  # the verifier checks the audience itself
    )
    return auth, JwtVerifier(args.oauth_issuer, args.resource_url, jwks)


SWITCH_VALUES = {"1": True, "true": True, "yes": True, "on": True}
SWITCH_VALUES |= {"0": False, "false": False, "no": False, "off": False, "": False}


def _page_size(text: str | int) -> int:
    try:
        size = int(text)
    except ValueError:
        size = -1
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a page size from 1 to {MAX_PAGE_SIZE} (0: one page)"
        )
    return size


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _offered(
    parser: argparse.ArgumentParser, server: Server[Any], args: argparse.Namespace
) -> Server[Any]:
    """The server with the view the command line, or its variables, ask for (a flag given
    replaces its variable; a message names the one that was wrong)."""
    env = os.environ
    current: View = getattr(server, "view", View())
    surface = args.surface or current.surface
    if surface not in SURFACES:
        parser.error(f"SFN_MCP_SURFACE={surface!r}: use {' or '.join(SURFACES)}")
    read_only = args.read_only
    if read_only is None:
        raw = env.get("SFN_MCP_READ_ONLY", "").strip().lower()
        if raw not in SWITCH_VALUES:  # an unknown value must not silently offer every tool
            parser.error(f"SFN_MCP_READ_ONLY={raw!r}: use 1 (read-only tools only) or 0")
        read_only = SWITCH_VALUES[raw]
    page_size = args.page_size
    if page_size is None:
        try:
            page_size = _page_size(env.get("SFN_MCP_PAGE_SIZE", "").strip() or 0)
        except argparse.ArgumentTypeError as exc:
            parser.error(f"SFN_MCP_PAGE_SIZE: {exc}")
    try:
        view = View(
            surface=surface,
            tools=tuple(dict.fromkeys(args.tool or _split(env.get("SFN_MCP_TOOLS")))),
            tags=tuple(
                parse_tag(text, "--tag" if args.tag else "SFN_MCP_TAGS:")
                for text in args.tag or _split(env.get("SFN_MCP_TAGS"))
            ),
            read_only=read_only,
            page_size=page_size,
            tools_from="--tool" if args.tool else "SFN_MCP_TOOLS:",
        )
        return server if view == current else cast(Any, server).with_view(view)
    except ViewError as exc:
        parser.error(str(exc))


def server_label(args: argparse.Namespace) -> str:
    return f"--oauth-issuer {args.oauth_issuer}"


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
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="HTTP only: a Host header to accept besides the loopback names and the bind "
        "address (repeatable; HOST:* for any port). Others get 421",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="HTTP only: a browser Origin to accept besides loopback ones (repeatable; "
        "https://app.example.com, or with :* for any port). Others get 403",
    )
    parser.add_argument(
        "--max-sessions",
        type=_count,
        default=MAX_SESSIONS,
        help=f"HTTP only: open sessions at most (default {MAX_SESSIONS}); at the limit the "
        f"longest idle one is closed for a new one; idle ones close after "
        f"{SESSION_IDLE_SECONDS:g} s anyway",
    )
    parser.add_argument(
        "--oauth-issuer",
        metavar="URL",
        default=os.environ.get("SFN_MCP_OAUTH_ISSUER"),
        help="HTTP only: OAuth resource-server mode; accept JWT access tokens of this issuer "
        "[env: SFN_MCP_OAUTH_ISSUER]",
    )
    parser.add_argument(
        "--resource-url",
        metavar="URL",
        default=os.environ.get("SFN_MCP_RESOURCE_URL"),
        help="with --oauth-issuer: this server's URL as clients reach it (the tokens' audience) "
        "[env: SFN_MCP_RESOURCE_URL]",
    )
    parser.add_argument(
        "--jwks-uri",
        metavar="URL",
        help="with --oauth-issuer: the issuer's keys (default: jwks_uri from its metadata)",
    )
    parser.add_argument(
        "--required-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="with --oauth-issuer: a scope every request's token must carry (repeatable)",
    )
    parser.add_argument(
        "--run-scope",
        metavar="SCOPE",
        help="with --oauth-issuer: a scope the token must carry to call a tool whose workflow is "
        "not read-only",
    )
    offered = parser.add_argument_group(
        "what the server offers of its package (the filters add up: a tool must pass each)"
    )
    offered.add_argument(
        "--surface",
        choices=SURFACES,
        default=os.environ.get("SFN_MCP_SURFACE") or None,
        help="all: every workflow as a tool of its own; search: find_workflows, "
        "describe_workflow and run_workflow instead (default: the package's, "
        f"{getattr(server, 'view', View()).surface}) [env: SFN_MCP_SURFACE]",
    )
    offered.add_argument(
        "--tool",
        action="append",
        metavar="NAME",
        help="offer this tool (repeatable; the others cannot be called) "
        "[env: SFN_MCP_TOOLS, comma-separated]",
    )
    offered.add_argument(
        "--tag",
        action="append",
        metavar="KEY[=VALUE]",
        help="offer the workflows whose state machine has this tag, with this value or any "
        "(repeatable: every tag given) [env: SFN_MCP_TAGS, comma-separated]",
    )
    offered.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="offer the read-only workflows only (readOnlyHint) [env: SFN_MCP_READ_ONLY=1, "
        "or 0 for all]",
    )
    offered.add_argument(
        "--page-size",
        type=_page_size,
        metavar="N",
        help=f"list the tools in pages of N (1 to {MAX_PAGE_SIZE}), each with the next page's "
        "cursor (default 0: one page, since clients that follow no cursor would miss the "
        "rest) [env: SFN_MCP_PAGE_SIZE]",
    )
    args = parser.parse_args(argv)
    server = _offered(parser, server, args)
    # What the imports made lives as long as the process: out of the collector's sight, the
    # collections that serving a large tools/list sets off stay short.
    gc.freeze()
    http_only = (args.host, args.port, args.stateless, args.allowed_host, args.allowed_origin)
    if args.transport != "http" and any(http_only):
        parser.error(
            "--host, --port, --stateless, --allowed-host and --allowed-origin need --transport http"
        )
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

        token = http_token()
        oauth = _oauth(parser, args, token)
        if args.host in ("0.0.0.0", "::") and not args.allowed_host:
            logger.warning(
                "serving on %s with no --allowed-host: requests that name this machine other "
                "than by a loopback address get 421 (name how clients reach it with "
                "--allowed-host)",
                args.host,
            )
        if args.host not in LOOPBACK and not (token or oauth):
            logger.warning(
                "serving on %s without %s: anyone who reaches the port can run the workflows "
                "with this process's AWS credentials",
                args.host,
                TOKEN_VARIABLE,
            )
        security = transport_security(args.host, args.allowed_host, args.allowed_origin)
        auth, verifier = oauth or (None, None)
        app: Any = server.streamable_http_app(
            stateless_http=args.stateless,
            host=args.host,
            transport_security=security,
            auth=auth,
            token_verifier=verifier,
            max_sessions=args.max_sessions,
            session_idle_timeout=SESSION_IDLE_SECONDS,
        )
        if oauth:
            from .oauth import advertise_scopes

            advertise_scopes(app, oauth[0], args.run_scope)
        if not args.stateless:
            app = SessionGuard(app, server, args.max_sessions)
        if token:
            app = BearerToken(app, token)
        host = f"[{args.host}]" if ":" in args.host else args.host
        guarded = " (bearer token required)" if token else ""
        if oauth:
            guarded = f" (OAuth access tokens of {args.oauth_issuer})"
        print(
            f"{server.name}: serving MCP at http://{host}:{args.port}/mcp{guarded}",
            file=sys.stderr,
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return

    async def serve_stdio() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    try:
        anyio.run(serve_stdio)
    except (BrokenPipeError, ConnectionResetError) as exc:  # the client went away mid-write
        logger.warning("the client closed the connection: %s", exc)
