"""Every setting, declared once: its key in ``[tool.sfn-mcp]``, its flag, the anchor's variable,
its type, default and help. The command line's options, the checks on the configuration file and
the README's settings table are all made from this table (``tests/`` keeps the README in step).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sfn_mcp_runtime.contract import (
    DEFAULT_MAX_WAIT_SECONDS,
    DEFAULT_POLL_INTERVAL_SECONDS,
    MAX_WAIT_SECONDS,
)

Scope = Literal["package", "workflow", "resource", "schema"]
DEFAULT_MAX_WORKERS = 8


@dataclass(frozen=True)
class Kind:
    """A setting's type: what a value must be (``describe``, for messages) and how a raw value
    from TOML or a flag is checked; ``check`` returns the value to use, or raises ValueError."""

    describe: str
    check: Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return value.strip()


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(_is_text(v) for v in value):
        raise ValueError
    return tuple(dict.fromkeys(v.strip() for v in value))


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _switch(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError
    if not 0 < value <= MAX_WAIT_SECONDS:
        raise ValueError
    return float(value)


def _workers(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise ValueError
    return value


def _version(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).isdigit():
        raise ValueError
    return str(value)


def _tool_name(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9_]{1,64}", value):
        raise ValueError
    return value


def _tag(value: Any) -> tuple[str, str]:
    if not isinstance(value, str):
        raise ValueError
    key, sep, tag_value = value.partition("=")
    if not sep or not key.strip() or not tag_value.strip():
        raise ValueError
    return key.strip(), tag_value.strip()


def _target(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    if value == "latest":
        return value
    kind, _, name = value.partition(":")
    if kind == "version" and name.isdigit():
        return value
    if kind == "alias" and re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name) and not name.isdigit():
        return value
    raise ValueError


def _account(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not re.fullmatch(r"\d{12}", text.strip()):
        raise ValueError
    return text.strip()


def _paths(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    return _names(value)


def _strings(value: Any) -> dict[str, str]:
    """A table of names to strings (numbers and booleans are written as CloudFormation would
    pass them: as strings)."""
    if not isinstance(value, dict):
        raise ValueError
    result = {}
    for key, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float):
            item = str(item)
        if not isinstance(key, str) or not key or not isinstance(item, str):
            raise ValueError
        result[key] = item
    return dict(sorted(result.items()))


def _arn(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"arn:[a-z-]+:[a-z0-9-]+:\S*", value.strip()):
        raise ValueError
    return value.strip()


def _choice(*choices: str) -> Kind:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError
        return str(value)

    return Kind(f"one of {', '.join(repr(c) for c in choices)}", check)


TEXT = Kind("a non-empty string", _text)
PATH = Kind("a folder path (a string)", _text)
NAMES = Kind("a list of state machine names", _names)
SWITCH = Kind("true or false", _switch)
SECONDS = Kind(f"a positive number of seconds up to {MAX_WAIT_SECONDS:g}", _seconds)
WORKERS = Kind("a whole number from 1 to 64", _workers)
VERSION = Kind('a schema version number like "3"', _version)
TAG = Kind('"KEY=VALUE" with both halves', _tag)
TARGET = Kind('"latest", "alias:NAME" or "version:N"', _target)
ACCOUNT = Kind("a 12-digit AWS account id (a string)", _account)
PATHS = Kind("a list of file or folder paths", _paths)
STRINGS = Kind("a table of names to string values", _strings)
ARN = Kind('an ARN ("arn:aws:...")', _arn)
FILE = Kind("a file path (a string)", _text)
TOOL_NAME = Kind("1 to 64 lowercase letters, digits and underscores", _tool_name)


@dataclass(frozen=True)
class Setting:
    key: str  # as written in [tool.sfn-mcp] (kebab-case)
    kind: Kind
    help: str
    scope: Scope = "package"
    flag: str | None = None  # the command-line option, if the setting has one
    short: str | None = None
    metavar: str | None = None
    multiple: bool = False  # the flag collects every use (a list, or one value checked once)
    env: str | None = None  # the anchor server's variable, read only without a config file
    default: Any = None
    example: str = ""  # a TOML value for the README's example table
    in_file: bool = True  # False: a flag of the command line only, no key in the file

    @property
    def field(self) -> str:
        """The attribute of Settings / WorkflowSettings that holds the value."""
        return self.key.replace("-", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "prefix",
        TEXT,
        "select machines whose name starts with this; it is stripped from tool names",
        flag="--prefix",
        env="STATE_MACHINE_PREFIX",
    ),
    Setting(
        "state-machines",
        NAMES,
        "select these exact names (OR'ed with the prefix; a missing name is an error)",
        flag="--state-machine",
        metavar="NAME",
        multiple=True,
        env="STATE_MACHINE_LIST",
    ),
    Setting(
        "tag",
        TAG,
        "keep only machines with this tag (KEY=VALUE, one filter; both halves are required)",
        flag="--tag",
        metavar="KEY=VALUE",
        multiple=True,  # so that a second --tag is refused instead of silently winning
        env="STATE_MACHINE_TAG_KEY",
    ),
    Setting(
        "schema-tag-key",
        TEXT,
        "tag whose value is the input schema's ARN",
        flag="--schema-tag-key",
        metavar="KEY",
        env="STATE_MACHINE_INPUT_SCHEMA_ARN_TAG_KEY",
    ),
    Setting(
        "output-schema-tag-key",
        TEXT,
        "tag whose value is the ARN of the schema that types the workflow's output",
        flag="--output-schema-tag-key",
        metavar="KEY",
    ),
    Setting(
        "name",
        TEXT,
        "Python package name of the server (default: the prefix in snake_case, else sfn_tools)",
        flag="--name",
    ),
    Setting(
        "output",
        PATH,
        "folder the package is written into (in the file: relative to the file; default: the "
        "current folder)",
        flag="--output",
        short="-o",
    ),
    Setting("region", TEXT, "AWS region (default: AWS_REGION, then boto3's own)", flag="--region"),
    Setting("profile", TEXT, "AWS named profile (default: AWS_PROFILE)", flag="--profile"),
    Setting(
        "max-wait-seconds",
        SECONDS,
        "how long STANDARD tools wait for a result before returning RUNNING",
        flag="--max-wait-seconds",
        default=DEFAULT_MAX_WAIT_SECONDS,
    ),
    Setting(
        "poll-interval-seconds",
        SECONDS,
        "how often clients should poll a STANDARD workflow that runs as an MCP task",
        default=DEFAULT_POLL_INTERVAL_SECONDS,
    ),
    Setting(
        "target",
        TARGET,
        "what tools run: the machine as it is (latest), a published version, or an alias; "
        "the definition compiled is the target's",
        flag="--target",
        metavar="TARGET",
        default="latest",
    ),
    Setting(
        "client-profile",
        _choice("portable", "exact"),
        "the form of each published inputSchema: portable inlines non-recursive $defs (clients "
        "render a $ref as any); exact keeps the source's $refs. Both accept the same arguments",
        flag="--client-profile",
        metavar="PROFILE",
        default="portable",
    ),
    Setting(
        "surface",
        _choice("all", "search"),
        "what tools/list offers: every workflow as a tool of its own (all), or a few tools to "
        "find, describe and run them (search), for packages too large for a model to read "
        "whole; the server's --surface overrides it",
        flag="--surface",
        metavar="SURFACE",
        default="all",
    ),
    Setting(
        "strict",
        SWITCH,
        "treat warnings as errors: no untyped fallback, no renamed collision, nothing ignored",
        flag="--strict",
        default=False,
    ),
    Setting(
        "max-workers",
        WORKERS,
        "concurrent AWS calls while reading the account",
        default=DEFAULT_MAX_WORKERS,
    ),
    Setting(
        "source",
        _choice("account", "files", "cloudformation"),
        "where the machines come from: the AWS account, ASL files named per workflow, or "
        "CloudFormation/SAM/CDK templates (no AWS needed for the last two)",
        flag="--source",
        default="account",
        example='"cloudformation"',
    ),
    Setting(
        "templates",
        PATHS,
        "source = cloudformation: template files, or folders such as cdk.out (relative to the "
        "configuration file)",
        flag="--template",
        metavar="PATH",
        multiple=True,
        example='["template.yaml"]',
    ),
    Setting(
        "account",
        ACCOUNT,
        "source = files or cloudformation: the account the machines are deployed in (their ARNs "
        "name it)",
        flag="--account",
        metavar="ID",
        example='"123456789012"',
    ),
    Setting(
        "partition",
        _choice("aws", "aws-cn", "aws-us-gov"),
        "source = files or cloudformation: the AWS partition the ARNs name",
        default="aws",
        example='"aws"',
    ),
    Setting(
        "stack-name",
        TEXT,
        "source = cloudformation: the stack's name, for AWS::StackName in templates",
        example='"ai-workflows"',
    ),
    Setting(
        "parameters",
        STRINGS,
        "source = cloudformation: the templates' parameter values (over their defaults)",
        example='{ Stage = "prod" }',
    ),
    Setting(
        "package",
        TEXT,
        "with [tool.sfn-mcp.packages.<id>] tables: only the package of this id (repeat for "
        "several; default every package); setting flags other than --strict need exactly one",
        flag="--package",
        metavar="ID",
        multiple=True,
        in_file=False,
    ),
    # Per workflow, under [tool.sfn-mcp.workflows."<state machine name>"].
    Setting(
        "input-mode",
        _choice("envelope", "detail"),
        "pass the event detail alone instead of a full EventBridge event",
        scope="workflow",
        example='"detail"',
    ),
    Setting(
        "max-wait-seconds",
        SECONDS,
        "this workflow's wait, over the package's",
        scope="workflow",
        example="120",
    ),
    Setting(
        "poll-interval-seconds",
        SECONDS,
        "this workflow's task poll interval, over the package's",
        scope="workflow",
        example="30",
    ),
    Setting(
        "confirm",
        SWITCH,
        "ask the user (elicitation) before each run; clients that cannot ask are refused",
        scope="workflow",
        example="true",
    ),
    Setting(
        "tool-name",
        TOOL_NAME,
        "instead of the name derived from the machine's",
        scope="workflow",
        example='"place_order"',
    ),
    Setting(
        "schema-version",
        VERSION,
        "pin the input schema's version instead of taking the latest",
        scope="workflow",
        example='"3"',
    ),
    Setting(
        "output-schema-version",
        VERSION,
        "pin the output schema's version",
        scope="workflow",
        example='"2"',
    ),
    Setting(
        "title",
        TEXT,
        'instead of the tag mcp:title, or a title from the name ("Order processing")',
        scope="workflow",
        example='"Place an order"',
    ),
    Setting(
        "description",
        TEXT,
        "instead of the definition's Comment",
        scope="workflow",
        example='"Places one order for a customer."',
    ),
    Setting("read-only", SWITCH, "MCP annotation readOnlyHint", scope="workflow", example="false"),
    Setting(
        "destructive", SWITCH, "MCP annotation destructiveHint", scope="workflow", example="true"
    ),
    Setting(
        "idempotent", SWITCH, "MCP annotation idempotentHint", scope="workflow", example="false"
    ),
    Setting("open-world", SWITCH, "MCP annotation openWorldHint", scope="workflow", example="true"),
    Setting(
        "schema-file",
        PATH,
        "a JSON Schema or OpenAPI file (relative to the configuration file) for this "
        "workflow's input when the registry has none",
        scope="workflow",
        example='"schemas/order.json"',
    ),
    Setting(
        "input",
        _choice("schema", "inferred", "free-form"),
        "where the input schema comes from (default: the registry's, else inferred)",
        scope="workflow",
        example='"inferred"',
    ),
    Setting(
        "target",
        TARGET,
        "this workflow's target, over the package's",
        scope="workflow",
        example='"alias:prod"',
    ),
    Setting(
        "definition-file",
        FILE,
        "source = files: the workflow's ASL definition, JSON or YAML (relative to the "
        "configuration file)",
        scope="workflow",
        example='"workflows/order.asl.json"',
    ),
    Setting(
        "type",
        _choice("STANDARD", "EXPRESS"),
        "source = files: the machine's type (default STANDARD)",
        scope="workflow",
        example='"STANDARD"',
    ),
    Setting(
        "tags",
        STRINGS,
        "source = files: the machine's tags (the schema tags among them)",
        scope="workflow",
        example='{ project = "shop" }',
    ),
    Setting(
        "stop-on-cancel",
        SWITCH,
        "StopExecution when the client cancels the call (default: keep running)",
        scope="workflow",
        example="true",
    ),
)

SETTINGS += (
    # What a template cannot say before deployment: [tool.sfn-mcp.resources.<LogicalId>].
    Setting(
        "name",
        TEXT,
        "the deployed name (a name CloudFormation generates)",
        scope="resource",
        example='"shop-order-flow-prod"',
    ),
    Setting(
        "arn",
        ARN,
        "the deployed ARN, whole",
        scope="resource",
        example='"arn:aws:states:eu-west-1:123456789012:stateMachine:shop-order-flow-prod"',
    ),
    Setting(
        "version",
        VERSION,
        "an AWS::EventSchemas::Schema's deployed version (default 1)",
        scope="resource",
        example='"4"',
    ),
    Setting(
        "definition-file",
        FILE,
        "the local file behind a DefinitionS3Location or an S3 DefinitionUri",
        scope="resource",
        example='"build/order.asl.json"',
    ),
    # A registry schema kept as a file: [tool.sfn-mcp.schemas."<schema ARN>"].
    Setting(
        "file",
        FILE,
        "the schema's content, as the registry stores it",
        scope="schema",
        example='"schemas/order-placed.json"',
    ),
    Setting(
        "type",
        _choice("OpenApi3", "JSONSchemaDraft4"),
        "the registry's format of it (default: OpenApi3 if the file has an openapi key)",
        scope="schema",
        example='"OpenApi3"',
    ),
    Setting(
        "version", VERSION, "the registry version it is (default 1)", scope="schema", example='"2"'
    ),
    Setting(
        "description",
        TEXT,
        "the registry's description of it",
        scope="schema",
        example='"OrderPlaced events of the web shop"',
    ),
)

PACKAGE_SETTINGS = {s.key: s for s in SETTINGS if s.scope == "package"}
FILE_SETTINGS = {key: s for key, s in PACKAGE_SETTINGS.items() if s.in_file}  # keys of a table
RESOURCE_SETTINGS = {s.key: s for s in SETTINGS if s.scope == "resource"}
SCHEMA_SETTINGS = {s.key: s for s in SETTINGS if s.scope == "schema"}
WORKFLOW_SETTINGS = {s.key: s for s in SETTINGS if s.scope == "workflow"}
# The anchor's tag filter is two variables; the declared one (the key) names the pair.
ANCHOR_TAG_VALUE = "STATE_MACHINE_TAG_VALUE"
# Every variable of the anchor's that sfn-mcp reads (without a configuration file).
ANCHOR_VARIABLES = tuple(s.env for s in PACKAGE_SETTINGS.values() if s.env) + (ANCHOR_TAG_VALUE,)
# The keys that make up the selection, which comes whole from one source.
SELECTION = ("prefix", "state-machines", "tag")
# The table of per-workflow settings and the table that names them.
WORKFLOWS_KEY = "workflows"
RESOURCES_KEY = "resources"
SCHEMAS_KEY = "schemas"
# Several packages from one configuration: [tool.sfn-mcp.packages.<id>], each taking the package
# settings above (and the named tables below) over the top-level table's, which it inherits.
PACKAGES_KEY = "packages"
TABLES = (WORKFLOWS_KEY, RESOURCES_KEY, SCHEMAS_KEY, PACKAGES_KEY)
PACKAGE_TABLES = (WORKFLOWS_KEY, RESOURCES_KEY, SCHEMAS_KEY)  # what a package table may hold
# A package id: what --package takes and every message of the package starts with.
PACKAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# The flags that apply to a run of several packages alike; every other setting flag is one
# package's, so it needs exactly one --package.
RUN_WIDE_FLAGS = ("strict",)


def settings_table() -> str:
    """The README's table of package settings, made from the declarations."""
    rows = [
        "| Setting (`[tool.sfn-mcp]`, `[tool.sfn-mcp.packages.<id>]`) | Flag | Anchor variable "
        "| Meaning |",
        "|---|---|---|---|",
    ]
    for s in PACKAGE_SETTINGS.values():
        flag = ""
        if s.flag:
            short = f"{s.short}/" if s.short else ""
            metavar = f" {s.metavar}" if s.metavar else ""
            flag = f"`{short}{s.flag}{metavar}`"
            if s.multiple and (s.kind is NAMES or not s.in_file):
                flag += " (repeat)"
        env = f"`{s.env}`" if s.env else ""
        if s.env == "STATE_MACHINE_TAG_KEY":
            env += f" + `{ANCHOR_TAG_VALUE}`"
        number = isinstance(s.default, int | float) and not isinstance(s.default, bool)
        default = f" (default {s.default:g})" if number else ""
        key = f"`{s.key}`" if s.in_file else "(flag only)"
        rows.append(f"| {key} | {flag} | {env} | {s.help}{default} |")
    return "\n".join(rows) + "\n"


def _example(header: str, settings: Iterable[Setting]) -> list[str]:
    settings = list(settings)
    width = max(len(f"{s.key} = {s.example}") for s in settings)
    return [header] + [f"{f'{s.key} = {s.example}':<{width}}  # {s.help}" for s in settings]


def workflow_example() -> str:
    """The README's example of per-workflow settings, made from the declarations."""
    lines = _example(
        '[tool.sfn-mcp.workflows."ai-workflows-order-processing"]', WORKFLOW_SETTINGS.values()
    )
    return "\n".join(lines) + "\n"


def repository_example() -> str:
    """The README's example of the tables that complete a template, made from the
    declarations."""
    lines = _example("[tool.sfn-mcp.resources.OrderFlow]", RESOURCE_SETTINGS.values())
    lines.append("")
    lines += _example(
        '[tool.sfn-mcp.schemas."arn:aws:schemas:eu-west-1:123456789012:schema/shop/OrderPlaced"]',
        SCHEMA_SETTINGS.values(),
    )
    return "\n".join(lines) + "\n"
