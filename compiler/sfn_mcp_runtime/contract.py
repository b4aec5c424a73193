"""What the compiler and every generated server agree on: names, limits, defaults, what ``tools.py``
imports, what ``surface.json`` records of how a tool runs, and what the server needs installed.

This module imports nothing but the standard library, so the compiler reads it without loading
the MCP SDK; the runtime reads it as its own (``<package>._runtime.contract``). Defined here once,
nothing needs keeping in step.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Final

# The server's own tool: status, output or error of an execution one of its tools started.
STATUS_TOOL: Final = "get_execution"
# The optional argument of STANDARD tools that becomes the execution name (never sent on).
IDEMPOTENCY_ARGUMENT: Final = "idempotency_key"

# How long a STANDARD tool waits for its execution before answering RUNNING + the ARN.
DEFAULT_MAX_WAIT_SECONDS: Final = 50.0
MAX_WAIT_SECONDS: Final = 3600.0  # no MCP client keeps a call open longer than this
# How often a client should poll a task (a STANDARD execution); per workflow, over this.
DEFAULT_POLL_INTERVAL_SECONDS: Final = 5.0
# The tool that answers an approval step for clients that cannot be asked (no elicitation).
ANSWER_TOOL: Final = "answer_step"
# The search surface (``surface = "search"``): tools to find, describe and run the workflows
# instead of one tool each, for packages too large for a model to read whole.
FIND_TOOL: Final = "find_workflows"
DESCRIBE_TOOL: Final = "describe_workflow"
RUN_TOOL: Final = "run_workflow"
# Names no workflow tool may take: the server's own tools.
SERVER_TOOLS: Final = frozenset({STATUS_TOOL, ANSWER_TOOL, FIND_TOOL, DESCRIBE_TOOL, RUN_TOOL})

# The folder, inside each generated package, that holds a copy of this runtime.
RUNTIME_PACKAGE: Final = "_runtime"

# What a generated tools.py may import from the runtime: name -> module of ``_runtime``.
TOOLS_IMPORTS: Final = {
    "ApprovalStep": "definitions",
    "Entry": "catalog",
    "all_tools": "catalog",
    "ExecutionResult": "definitions",
    "FreeFormInput": "definitions",
    "Tool": "definitions",
    "Workflow": "definitions",
    "Hints": "contract",
    "event_envelope": "execution",
    "run_workflow": "execution",
    "workflow_input": "execution",
}

# The file of a package that holds its tools/list (written by the compiler from the package's own
# code; the server sends it as it is), and the version of its layout.
LISTING: Final = "listing.json"
LISTING_FORMAT: Final = 1

# What surface.json records of how each workflow tool runs (``stateMachine`` keys), read from the
# Workflow constants of tools.py: check --offline compares them with the code.
RUN_KEYS: Final = (
    "arn",
    "type",
    "maxWaitSeconds",
    "stopOnCancel",
    "targetArn",
    "definitionSha256",
)

# What a generated server needs installed (its requirements.txt), and the top-level modules that
# it imports directly or through them: a package of one of these names would shadow it.
SERVER_REQUIREMENTS: Final = ("mcp>=2.3,<3", "pydantic>=2.14,<3", "boto3>=1.34", "jsonschema>=4.20")
SERVER_MODULES: Final = frozenset(
    {"mcp", "mcp_types", "pydantic", "pydantic_core", "boto3", "botocore", "anyio", "uvicorn"}
    | {"starlette", "httpx", "jmespath", "s3transfer", "dateutil", "urllib3", "typing_extensions"}
    | {"jsonschema", "referencing", "rpds", "attrs", "jwt", "cryptography"}
)


@dataclass(frozen=True)
class Hints:
    """A tool's MCP annotations under readable names. The defaults are the protocol's cautious
    ones: a workflow run is an action (not read-only), may change or delete things, is not
    idempotent and reaches systems beyond this server; tags or configuration say otherwise."""

    read_only: bool = False
    destructive: bool = True
    idempotent: bool = False
    open_world: bool = True


def definition_digest(definition: str) -> str:
    """The SHA-256 that names a reviewed definition: of its JSON with keys sorted and no
    whitespace, so the same definition re-serialised (by CloudFormation, or a reformatted file)
    is the same reviewed definition; text that is no JSON is hashed as it is."""
    try:
        canonical = json.dumps(
            json.loads(definition), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    except (ValueError, RecursionError):
        canonical = definition
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
