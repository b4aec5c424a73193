"""What a tool *is*: the workflow it runs, the outcome it returns, its input and result schemas,
and the validator of its input schema (JSON Schema 2020-12, with the formats it checks).

Imports pydantic and jsonschema, never mcp or boto3.
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import math
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema

from .contract import (
    DEFAULT_MAX_WAIT_SECONDS,
    DEFAULT_POLL_INTERVAL_SECONDS,
    IDEMPOTENCY_ARGUMENT,
    Hints,
)

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
class ApprovalStep:
    """A state of a workflow that waits for a person's answer (see ``approvals``)."""

    state: str
    question: str
    token_path: tuple[str, ...]  # keys into the state's resolved parameters
    answer_schema: Mapping[str, Any] | None = None  # None: the default approve/comment form


@dataclass(frozen=True)
class Workflow:
    """A state machine the server may run: exactly the ARN it was generated for."""

    name: str
    arn: str
    type: WorkflowType
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS
    stop_on_cancel: bool = False
    # What executions start when not the machine as it is: its alias's or version's ARN, and
    # the SHA-256 of the definition compiled (for SFN_MCP_VERIFY_TARGETS).
    target_arn: str | None = None
    definition_sha256: str | None = None
    # As a task: how often clients should poll. Steps that wait for a person. Whether a run
    # needs the user's confirmation first.
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS
    approval_steps: tuple[ApprovalStep, ...] = ()
    confirm: bool = False
    # The machine's tags (key, value), sorted: what the server's --tag filter selects by.
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def start_arn(self) -> str:
        """The ARN StartExecution / StartSyncExecution is called with."""
        return self.target_arn or self.arn

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
    """An AWS call failed; the message is shown to the model as an ``isError`` result.

    ``maybe_started``: a start call failed after its request may have reached Step Functions
    (no answer, or one that cannot be read), so the execution may have started all the same."""

    def __init__(self, message: str, code: str = "", *, maybe_started: bool = False) -> None:
        super().__init__(message)
        self.code = code  # the AWS error code, when there is one
        self.maybe_started = maybe_started


def json_depth(value: Any, limit: int | None = None) -> int:
    """Levels of objects and arrays in ``value`` (0 for a string, number, boolean or null),
    without recursion; once past ``limit``, the walk stops and answers ``limit + 1``."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if limit is not None and depth > limit:
                return limit + 1
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            pending.extend(
                (child, depth + 1) for child in children if isinstance(child, dict | list)
            )
    return deepest


# Unpaired UTF-16 surrogates: valid in JSON text as \uD800-style escapes (and so in an execution's
# output), but no UTF-8 can carry them, and the MCP SDK fails to encode a message holding one.
SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """``text`` with each unpaired surrogate written as its JSON escape (``\\ud800``)."""
    return SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


EXCERPT_CHARACTERS = 60


NAMED_AT_MOST = 30  # names a message lists before it says how many more there are


def some_names(names: list[str]) -> str:
    """``names`` joined, or the first of them and how many more ("none" for no name): a server
    of hundreds of workflows would otherwise repeat them all in descriptions and messages."""
    if len(names) <= NAMED_AT_MOST:
        return ", ".join(names) or "none"
    return f"{', '.join(names[:NAMED_AT_MOST])} and {len(names) - NAMED_AT_MOST} more"


def excerpt(text: str, limit: int = EXCERPT_CHARACTERS) -> str:
    """Text someone sent, quoted and cut to ``limit`` characters: how messages show it, so a huge
    value is never repeated whole."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


@dataclass(frozen=True)
class Tool(Generic[ModelT]):
    """One MCP tool: its public contract plus the typed function that runs it.

    ``workflow`` is the state machine the tool runs (None for get_execution). ``run`` takes the
    validated input model and, for STANDARD workflows, the keyword ``idempotency_key``.
    ``output_model`` types a SUCCEEDED execution's output, if known.

    ``schema`` is the input's JSON Schema as the source says it (a generated module's
    ``INPUT_SCHEMA``): published as ``inputSchema`` and checked before anything runs; the model
    then only types the arguments. Without it, the model's own schema is published and checked.
    """

    name: str
    title: str
    description: str
    workflow: Workflow | None
    input_model: type[ModelT]
    run: Callable[..., Awaitable[ExecutionResult]]
    output_model: type[BaseModel] | None = None
    hints: Hints = Hints()
    schema: Mapping[str, Any] | None = field(default=None, repr=False)
    input_schema: dict[str, Any] = field(init=False, repr=False)
    output_schema: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.schema is not None:
            schema = copy.deepcopy(dict(self.schema))
        else:
            schema = self.input_model.model_json_schema(
                by_alias=True, schema_generator=_NoFieldTitles
            )
        if self.takes_idempotency_key:
            properties = schema.setdefault("properties", {})
            if IDEMPOTENCY_ARGUMENT in properties:
                raise ValueError(f"{self.name}: the input already has {IDEMPOTENCY_ARGUMENT!r}")
            properties[IDEMPOTENCY_ARGUMENT] = IDEMPOTENCY_KEY_SCHEMA
        object.__setattr__(self, "input_schema", schema)
        object.__setattr__(self, "output_schema", result_schema(self.output_model))

    @cached_property
    def schema_validator(self) -> Any:
        """Validates arguments against input_schema (jsonschema's Draft 2020-12, formats
        checked); made on the first call, so a server starts without importing jsonschema."""
        return input_validator(self.input_schema)

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


# ------------------------------------------------------------------------ checking the input


def input_validator(schema: Mapping[str, Any]) -> Any:
    """A JSON Schema 2020-12 validator of ``schema`` that also checks the formats below."""
    from jsonschema import Draft202012Validator, FormatChecker

    global _FORMATS
    if _FORMATS is None:
        checker = FormatChecker(formats=())
        for name, check in FORMAT_CHECKS.items():
            checker.checks(name)(check)
        _FORMATS = checker
    return Draft202012Validator(schema, format_checker=_FORMATS)


_FORMATS: Any = None
FLOAT32_MAX = 3.4028234663852886e38
# \Z, not $: a trailing newline is no part of a valid value
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)*\Z")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_TIME = re.compile(
    r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))\Z"
)
_HOST_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*\Z")


def _integer(low: int, high: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return True  # not a number: `type` says what is wrong
        return (isinstance(value, int) or value.is_integer()) and low <= value <= high

    return check


def _number(limit: float) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return True
        if isinstance(value, int):  # compared exactly: a huge int is no float
            return abs(value) <= limit
        return math.isfinite(value) and abs(value) <= limit

    return check


def _text(check: Callable[[str], bool]) -> Callable[[object], bool]:
    """A format of strings: any other value passes (its `type` is checked on its own)."""

    def checked(value: object) -> bool:
        return not isinstance(value, str) or check(value)

    return checked


def _base64(text: str) -> bool:
    if not _BASE64.match(text):
        return False
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _date(text: str) -> bool:
    found = _DATE.match(text)
    if not found:
        return False
    year, month, day = (int(part) for part in found.groups())
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _time(text: str) -> bool:
    """RFC 3339 full-time: a time of day with a UTC offset (a leap second's 60 included)."""
    found = _TIME.match(text)
    if not found:
        return False
    hour, minute, second = (int(part) for part in found.groups()[:3])
    offset = [int(part) for part in found.groups()[3:] if part is not None]
    if offset and not (offset[0] < 24 and offset[1] < 60):
        return False
    return hour < 24 and minute < 60 and second <= 60


def _date_time(text: str) -> bool:
    """RFC 3339 date-time: date, ``T``, time and offset (``Z`` or ``±hh:mm``)."""
    date_part, separator, time_part = text.partition("T") if "T" in text else text.partition("t")
    return bool(separator) and _date(date_part) and _time(time_part)


def _ip(kind: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            kind(text)
        except ValueError:
            return False
        return "%" not in text  # no IPv6 zone: not an address in JSON Schema's sense

    return check


def _hostname(text: str) -> bool:
    name = text[:-1] if text.endswith(".") else text
    return 0 < len(name) <= 253 and all(_HOST_LABEL.match(label) for label in name.split("."))


def _regex(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True


# The formats the server checks: OpenAPI's numeric and byte formats, and JSON Schema's common
# string formats, with the standard library only. Any other format (password, binary …) is a
# hint for the client, as JSON Schema says.
FORMAT_CHECKS: dict[str, Callable[[object], bool]] = {
    "int32": _integer(-(2**31), 2**31 - 1),
    "int64": _integer(-(2**63), 2**63 - 1),
    "float": _number(FLOAT32_MAX),
    "double": _number(sys.float_info.max),
    "byte": _text(_base64),
    "email": _text(lambda text: bool(_EMAIL.match(text))),
    "uuid": _text(lambda text: bool(_UUID.match(text))),
    "date": _text(_date),
    "time": _text(_time),
    "date-time": _text(_date_time),
    "ipv4": _text(_ip(ipaddress.IPv4Address)),
    "ipv6": _text(_ip(ipaddress.IPv6Address)),
    "hostname": _text(_hostname),
    "uri": _text(lambda text: bool(_URI.match(text))),
    "regex": _text(_regex),
}


# ------------------------------------------------------------------------ the arguments as sent

_SENT = "_sfn_mcp_arguments"
NOT_SENT: Any = object()  # what ``sent_arguments`` says of a model made in Python


def carrying_arguments(model: ModelT, arguments: Any) -> ModelT:
    """``model``, keeping the JSON arguments it was validated from: what the workflow gets.

    Kept with pydantic's private attributes, so the model's fields and dumps are unchanged."""
    private = dict(model.__pydantic_private__ or {})
    private[_SENT] = arguments
    object.__setattr__(model, "__pydantic_private__", private)
    return model


def sent_arguments(model: BaseModel) -> Any:
    """The JSON arguments ``model`` was validated from by the server, or ``NOT_SENT``."""
    private = model.__pydantic_private__ or {}
    return private.get(_SENT, NOT_SENT)
