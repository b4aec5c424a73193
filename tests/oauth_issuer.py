"""A local OAuth 2.1 authorization server for the tests, served on 127.0.0.1 (not a fixture, so
several test files can start one): an RSA key and its JWKS, RFC 8414 (and OpenID) metadata,
dynamic client registration (RFC 7591), an authorization endpoint that approves at once (it
redirects to the client's ``redirect_uri`` with a code, as a browser would after a login), and a
token endpoint that checks PKCE (S256) and issues a JWT whose audience is the ``resource``
(RFC 8707) the client asked for. Every request it receives is recorded, in order, in
``requests``, so a test can tell how far a client went.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    json: Any = None


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    resource: str
    scope: str


@dataclass
class Issuer:
    url: str
    key: Any
    other_key: Any
    requests: list[Request] = field(default_factory=list)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # access tokens the token endpoint gave out

    def token(self, *, audience: str, key: Any = None, lifetime: int = 300, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.url, "aud": audience, "sub": "ada", "iat": now,
                   "exp": now + lifetime, "client_id": "test-client", **claims}  # fmt: skip
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": "k1"})

    def seen(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "registration_endpoint": f"{self.url}/register",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["workflows:run"],
        }

    def register(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or not body.get("redirect_uris"):
            return 400, {"error": "invalid_redirect_uri"}
        client_id = f"client-{secrets.token_hex(4)}"
        client = {**body, "client_id": client_id, "client_id_issued_at": int(time.time()),
                  "token_endpoint_auth_method": "none"}  # fmt: skip
        self.clients[client_id] = client
        return 201, client

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, Any], str | None]:
        """Approve at once: a redirect to the client with a code, or an error (and no redirect
        when the client or its redirect URI is unknown, as RFC 6749 §4.1.2.1 has it)."""
        client = self.clients.get(query.get("client_id", ""))
        redirect = query.get("redirect_uri", "")
        if client is None or redirect not in client["redirect_uris"]:
            return 400, {"error": "invalid_request", "error_description": "unknown client"}, None
        problem = (
            "unsupported_response_type" if query.get("response_type") != "code"
            else "invalid_request" if query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge") or not query.get("resource")
            else None
        )  # fmt: skip
        answer: dict[str, str] = {"state": query["state"]} if "state" in query else {}
        if problem:
            answer["error"] = problem
        else:
            code = secrets.token_urlsafe(16)
            self.grants[code] = Grant(client["client_id"], redirect, query["code_challenge"],
                                      query["resource"], query.get("scope", ""))  # fmt: skip
            answer["code"] = code
        separator = "&" if "?" in redirect else "?"
        return 302, {}, f"{redirect}{separator}{urllib.parse.urlencode(answer)}"

    def exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = self.grants.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.client_id != form.get("client_id")
            or grant.redirect_uri != form.get("redirect_uri")
            or challenge.decode() != grant.challenge
            or form.get("resource", grant.resource) != grant.resource
        ):
            return 400, {"error": "invalid_grant"}
        access = self.token(audience=grant.resource, client_id=grant.client_id, scope=grant.scope)
        self.issued.append(access)
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                     "scope": grant.scope}  # fmt: skip


@contextmanager
def local_issuer() -> Iterator[Issuer]:
    """An Issuer serving on a free 127.0.0.1 port until the block ends."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk |= {"kid": "k1", "use": "sig", "alg": "RS256"}
    port = free_port()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer = Issuer(f"http://127.0.0.1:{port}", key, other)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _record(self) -> Request:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            kind = self.headers.get("Content-Type", "")
            request = Request(
                self.command,
                url.path,
                dict(urllib.parse.parse_qsl(url.query)),
                dict(urllib.parse.parse_qsl(raw)) if "form-urlencoded" in kind else {},
                {k.lower(): v for k, v in self.headers.items()},
            )
            if "json" in kind:
                try:
                    request.json = json.loads(raw)
                except ValueError:
                    request.json = raw
            issuer.requests.append(request)
            return request

        def _answer(self, status: int, document: Any, location: str | None = None) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            request = self._record()
            if request.path in METADATA_PATHS:
                self._answer(200, issuer.metadata())
            elif request.path == "/jwks":
                self._answer(200, {"keys": [jwk]})
            elif request.path == "/authorize":
                self._answer(*issuer.authorize(request.query))
            else:
                self._answer(404, {"error": "not found"})

        def do_POST(self) -> None:
            request = self._record()
            if request.path == "/register":
                self._answer(*issuer.register(request.json))
            elif request.path == "/token":
                self._answer(*issuer.exchange(request.form))
            else:
                self._answer(404, {"error": "not found"})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
