"""What a tool *is*: the workflow it runs, the outcome it returns, its input and result schemas.

Imports pydantic (and jsonschema, when a tool's schema needs it), never mcp or boto3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema

from .contract import DEFAULT_MAX_WAIT_SECONDS, IDEMPOTENCY_ARGUMENT, Hints

WorkflowType = Literal["STANDARD", "EXPRESS"]
ModelT = TypeVar("ModelT", bound=BaseModel)

# Step Functions execution names: 1-80 characters; this subset is also safe in logs and URLs.
EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
EXECUTION_ARN = re.compile(
    r"^(?P<prefix>arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}):execution:(?P<machine>[^:]+):[^:]+$"
)
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


class FreeFormInput(BaseModel):
    """Any JSON object; the workflow has no input schema, so it is passed on unchanged."""

    model_config = ConfigDict(extra="allow", title="FreeFormInput")


@dataclass(frozen=True)
class Workflow:
    """A state machine the server may run: exactly the ARN it was generated for."""

    name: str
    arn: str
    type: WorkflowType
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS
    stop_on_cancel: bool = False

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    def execution_arn(self, name: str) -> str:
        """The ARN Step Functions gives a STANDARD execution of this machine named ``name``."""
        prefix, _, machine = self.arn.rpartition(":stateMachine:")
        return f"{prefix}:execution:{machine}:{name}"

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


@dataclass(frozen=True)
class ExecutionResult:
    """What a tool call returns: the execution's outcome, as data."""

    status: str
    execution_arn: str | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start_date: str | None = None
    stop_date: str | None = None
    message: str | None = None

    @property
    def is_error(self) -> bool:
        return self.status not in ("SUCCEEDED", "RUNNING", "PENDING_REDRIVE")

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "executionArn": self.execution_arn,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "startDate": self.start_date,
            "stopDate": self.stop_date,
        }


class WorkflowError(Exception):
    """An AWS call failed; the message is shown to the model as an ``isError`` result."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code  # the AWS error code, when there is one


@dataclass(frozen=True)
class Tool(Generic[ModelT]):
    """One MCP tool: its public contract plus the typed function that runs it.

    ``workflow`` is the state machine the tool runs (None for get_execution). ``run`` takes the
    validated input model and, for STANDARD workflows, the keyword ``idempotency_key``.
    ``output_model`` types a SUCCEEDED execution's output, if known.
    """

    name: str
    title: str
    description: str
    workflow: Workflow | None
    input_model: type[ModelT]
    run: Callable[..., Awaitable[ExecutionResult]]
    output_model: type[BaseModel] | None = None
    hints: Hints = Hints()
    input_schema: dict[str, Any] = field(init=False, repr=False)
    output_schema: dict[str, Any] = field(init=False, repr=False)
    # Checks the published schema where it says more than the model (uniqueItems), else None.
    schema_validator: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        schema = self.input_model.model_json_schema(by_alias=True, schema_generator=_NoFieldTitles)
        if self.takes_idempotency_key:
            properties = schema.setdefault("properties", {})
            if IDEMPOTENCY_ARGUMENT in properties:
                raise ValueError(f"{self.name}: the input already has {IDEMPOTENCY_ARGUMENT!r}")
            properties[IDEMPOTENCY_ARGUMENT] = IDEMPOTENCY_KEY_SCHEMA
        object.__setattr__(self, "input_schema", schema)
        object.__setattr__(self, "output_schema", result_schema(self.output_model))
        object.__setattr__(self, "schema_validator", _beyond_the_model(schema))

    @property
    def takes_idempotency_key(self) -> bool:
        """STANDARD workflow tools do; EXPRESS ones and get_execution do not."""
        return self.workflow is not None and self.workflow.type == "STANDARD"


IDEMPOTENCY_KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": EXECUTION_NAME.pattern,
    "description": "Optional. Becomes the execution's name: calling again with the same key and "
    "the same arguments returns that execution instead of starting another. Use a new key "
    "for a new request (letters, digits, - and _; at most 80).",
}


def result_schema(output_model: type[BaseModel] | None) -> dict[str, Any]:
    """The JSON Schema of every tool result's ``structuredContent``; ``output`` is typed by the
    workflow's output model when there is one, and any JSON otherwise."""
    defs: dict[str, Any] = {}
    output: dict[str, Any] = {"description": "The workflow's output when it SUCCEEDED, else null."}
    if output_model is not None:
        typed = output_model.model_json_schema(by_alias=True, schema_generator=_NoFieldTitles)
        defs.update(typed.pop("$defs", {}))
        if set(typed) != {"$ref"}:
            key = output_model.__name__
            while key in defs:
                key += "_"
            defs[key] = typed
            typed = {"$ref": f"#/$defs/{key}"}
        output["anyOf"] = [typed, {"type": "null"}]
    else:  # any JSON value, spelt out: clients read a schema without a type as a mistake
        output["anyOf"] = [{"type": t} for t in JSON_TYPES]
    text = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": list(STATUSES)},
            "executionArn": {**text, "description": "Give it to get_execution to follow up."},
            "output": output,
            "error": {**text, "description": "Error name when the execution did not succeed."},
            "cause": {**text, "description": "What went wrong, when the execution failed."},
            "startDate": {**text, "format": "date-time"},
            "stopDate": {**text, "format": "date-time"},
        },
        "required": list(RESULT_FIELDS),
    }
    if defs:
        schema["$defs"] = defs
    return schema


JSON_TYPES = ("object", "array", "string", "number", "boolean", "null")
RESULT_FIELDS = ("status", "executionArn", "output", "error", "cause", "startDate", "stopDate")


class _NoFieldTitles(GenerateJsonSchema):
    """Leave out the titles pydantic derives from field names ("Rundate" for ``runDate``): they
    add nothing to the name and the description, and read as typos to a model."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _beyond_the_model(schema: dict[str, Any]) -> Any:
    """A JSON Schema validator when ``schema`` has keywords pydantic does not enforce."""
    # Built here, when the Tool is made; validation.py runs it (and imports Tool, so not there).
    if '"uniqueItems"' not in json.dumps(schema):
        return None
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)
