"""OAuth 2.1 resource-server mode for HTTP: JWT access tokens from one issuer, checked here.

A token is accepted only when its signature verifies against a key of the issuer's JWKS (fetched
from ``jwks_uri`` in the issuer's metadata, or given), its ``iss`` is the issuer, its ``aud``
includes this server's URL (RFC 8707: the resource it was issued for), and it has not expired
(30 s of clock skew allowed). Only asymmetric algorithms are accepted, so a token signed with a
shared secret or ``none`` never passes. The SDK serves the Protected Resource Metadata (RFC 9728)
and answers 401 with ``resource_metadata``; ``advertise_scopes`` makes the metadata list every
scope a client may need, and per-tool scopes are checked in ``server.py``.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

import anyio.to_thread
import jwt
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings

logger = logging.getLogger("sfn_mcp.runtime")

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
LEEWAY_SECONDS = 30
METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")


class OAuthSetupError(Exception):
    """The issuer's metadata or keys cannot be had: the server does not start."""


def discover_jwks_uri(issuer: str, timeout: float = 10.0) -> str:
    """``jwks_uri`` from the issuer's authorization-server (RFC 8414) or OpenID metadata."""
    base = issuer.rstrip("/")
    problems = []
    for path in METADATA_PATHS:
        try:
            with urllib.request.urlopen(base + path, timeout=timeout) as response:
                metadata = json.loads(response.read())
        except (OSError, ValueError) as exc:
            problems.append(f"{base + path}: {exc}")
            continue
        uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
        if isinstance(uri, str) and uri:
            return uri
        problems.append(f"{base + path}: no jwks_uri")
    raise OAuthSetupError(f"cannot find the issuer's keys: {'; '.join(problems)}")


class JwtVerifier:
    """The SDK's TokenVerifier for JWT access tokens (see the module docstring)."""

    def __init__(self, issuer: str, audience: str, jwks_uri: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=300, timeout=10)

    def _claims(self, token: str) -> dict[str, Any]:
        key = self.keys.get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=ALGORITHMS,
            audience=self.audience,
            issuer=self.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
        return claims

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await anyio.to_thread.run_sync(self._claims, token)
        except (jwt.PyJWTError, OSError, ValueError) as exc:
            logger.info("refused an access token: %s", exc)
            return None
        scope = claims.get("scope", claims.get("scp", ""))
        scopes = scope.split() if isinstance(scope, str) else [str(s) for s in scope]
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or claims.get("sub", "")),
            scopes=scopes,
            expires_at=int(claims["exp"]),
            resource=self.audience,
            subject=str(claims["sub"]) if "sub" in claims else None,
        )


def advertise_scopes(app: Any, auth: AuthSettings, run_scope: str | None) -> None:
    """Serve the Protected Resource Metadata with ``scopes_supported`` naming the scopes every
    request needs and the run scope. The SDK lists only the former, and clients ask for what
    ``scopes_supported`` lists (the MCP specification's scope selection): without the run scope
    there, a user who logs in gets a token that can run no workflow that is not read-only.
    ``app`` is the SDK's Starlette app (its routes are replaced in place)."""
    scopes = list(dict.fromkeys([*(auth.required_scopes or []), *filter(None, [run_scope])]))
    if not scopes or auth.resource_server_url is None:
        return
    ours = create_protected_resource_routes(
        resource_url=auth.resource_server_url,
        authorization_servers=[auth.issuer_url],
        scopes_supported=scopes,
    )
    paths = {getattr(route, "path", None) for route in ours}
    routes = app.router.routes
    routes[:] = [*ours, *(route for route in routes if getattr(route, "path", None) not in paths)]
