"""``server.json`` for the MCP Registry (schema 2025-12-11): the server's name, version and the
packages it is installed from.

The MCPB bundle is always listed, with its download URL (``--release-url``: where the release
assets are published) and its SHA-256, which clients check before running it. The container
image is listed too when ``--image`` names where it is pushed. The registry name
(``--registry-name``, reverse DNS such as ``io.github.acme/ai-workflows``) is the namespace you
authenticate for when publishing; without these flags the file holds placeholders that say so,
and the command warns.
"""

from __future__ import annotations

import re
from typing import Any

from sfn_mcp.bundle.docker import PORT
from sfn_mcp.bundle.package import Package
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.text import readable_json

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
SERVER_JSON = "server.json"
NAME = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")
DESCRIPTION_LIMIT = 100  # the schema's maxLength
PLACEHOLDER_OWNER = "OWNER"
_URL = re.compile(r"^https://[^\s/]+(/[^\s]*)?$")
_IMAGE = re.compile(r"^[a-z0-9.-]+(:\d+)?/[^\s@:]+(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$")


def check_registry_name(name: str) -> str:
    if NAME.match(name) and 3 <= len(name) <= 200:
        return name
    raise CompileError(
        f"--registry-name {name!r} is not a registry name (reverse DNS, one slash: "
        "io.github.<user>/<server> or com.example/<server>)",
        hint="use the namespace you can log in to with mcp-publisher, e.g. "
        "io.github.<your GitHub user>/<server>",
    )


def check_release_url(url: str) -> str:
    if _URL.match(url):
        return url.rstrip("/")
    raise CompileError(
        f"--release-url {url!r} is not an https:// URL",
        hint="give the folder the release assets download from, e.g. "
        "https://github.com/<owner>/<repo>/releases/download/v<version>",
    )


def check_image(image: str) -> str:
    tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
    if _IMAGE.match(image) and tagged and not image.endswith(":latest"):
        return image
    raise CompileError(
        f"--image {image!r} is not one pushed image (registry/name:tag or @sha256:…, not latest)",
        hint="e.g. ghcr.io/<owner>/<server>:<version>",
    )


def placeholder_name(package: Package) -> str:
    return f"io.github.{PLACEHOLDER_OWNER}/{package.distribution}"


def placeholder_release_url(package: Package) -> str:
    return f"https://github.com/{PLACEHOLDER_OWNER}/REPO/releases/download/v{package.version}"


def _short(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return cut + "…"


def _variable(name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": description, **extra}


def _aws_variables(package: Package) -> list[dict[str, Any]]:
    region = package.regions[0] if len(package.regions) == 1 else None
    return [
        _variable(
            "AWS_PROFILE",
            "AWS profile whose role runs the workflows (grant it iam-policy.json)",
        ),
        _variable(
            "AWS_REGION",
            "Region of the AWS clients; each tool calls its own state machine's region",
            **({"default": region} if region else {}),
        ),
        _variable(
            "SFN_MCP_MAX_WAIT_SECONDS",
            "Seconds a tool waits for a STANDARD workflow before answering RUNNING",
            format="number",
        ),
    ]


def server_json(
    package: Package,
    *,
    registry_name: str,
    release_url: str,
    bundle_file: str,
    bundle_sha256: str,
    image: str | None,
) -> dict[str, Any]:
    packages: list[dict[str, Any]] = [
        {
            "registryType": "mcpb",
            "identifier": f"{release_url}/{bundle_file}",
            "version": package.version,
            "fileSha256": bundle_sha256,
            "transport": {"type": "stdio"},
            "environmentVariables": _aws_variables(package),
        }
    ]
    if image:
        packages.append(
            {
                "registryType": "oci",
                "identifier": image,
                "runtimeHint": "docker",
                "transport": {"type": "streamable-http", "url": f"http://localhost:{PORT}/mcp"},
                "packageArguments": [
                    {
                        "type": "named",
                        "name": "--allowed-host",
                        "description": "A Host name clients reach the server by (repeatable)",
                        "isRepeated": True,
                    },
                    {
                        "type": "named",
                        "name": "--allowed-origin",
                        "description": "A browser Origin to accept (repeatable)",
                        "isRepeated": True,
                    },
                ],
                "environmentVariables": [
                    _variable(
                        "SFN_MCP_HTTP_TOKEN",
                        "Bearer token every HTTP request must carry",
                        isRequired=True,
                        isSecret=True,
                    ),
                    *_aws_variables(package),
                ],
            }
        )
    return {
        "$schema": SCHEMA,
        "name": registry_name,
        "title": package.server,
        "description": _short(package.description),
        "version": package.version,
        "packages": packages,
    }


def server_json_text(package: Package, **fields: Any) -> str:
    return readable_json(server_json(package, **fields)) + "\n"
