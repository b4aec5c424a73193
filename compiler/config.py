"""Settings: CLI flags over the configuration file, or over the anchor's environment variables.

The anchor server's variables (``STATE_MACHINE_*``) are read only when no configuration file is in
use: they let users of awslabs-stepfunctions-tool-mcp-server switch over with the settings they
have, while a committed ``[tool.sfn-mcp]`` table makes ``make generate`` give the same package on
every machine, whatever the shell exports.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import CompileError
from .naming import snake_case

InputMode = Literal["envelope", "detail"]
INPUT_MODES: tuple[InputMode, ...] = ("envelope", "detail")
DEFAULT_MAX_WAIT_SECONDS = 50.0
DEFAULT_MAX_WORKERS = 8

# The anchor's variable → our setting.
ANCHOR_ENV = {
    "STATE_MACHINE_PREFIX": "prefix",
    "STATE_MACHINE_LIST": "state-machines",
    "STATE_MACHINE_TAG_KEY": "tag-key",
    "STATE_MACHINE_TAG_VALUE": "tag-value",
    "STATE_MACHINE_INPUT_SCHEMA_ARN_TAG_KEY": "schema-tag-key",
}
FILE_KEYS = {
    "prefix",
    "state-machines",
    "tag",
    "schema-tag-key",
    "output-schema-tag-key",
    "name",
    "output",
    "region",
    "profile",
    "max-wait-seconds",
    "max-workers",
    "workflows",
}
WORKFLOW_KEYS = {
    "input-mode",
    "max-wait-seconds",
    "tool-name",
    "schema-version",
    "output-schema-version",
    "title",
    "description",
    "read-only",
    "destructive",
    "idempotent",
    "open-world",
    "stop-on-cancel",
}
# Per-workflow switches: setting key → WorkflowSettings field.
HINT_KEYS = {
    "read-only": "read_only",
    "destructive": "destructive",
    "idempotent": "idempotent",
    "open-world": "open_world",
}
MAX_WAIT_LIMIT = 3600.0  # no MCP client keeps a call open longer than this
TOOL_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
SELECTION = ("prefix", "state-machines", "tag-key", "tag-value")
# Top-level modules a generated server imports (directly or through its dependencies).
SERVER_DEPENDENCIES = frozenset(
    {"mcp", "mcp_types", "pydantic", "pydantic_core", "boto3", "botocore", "anyio", "uvicorn"}
    | {"starlette", "httpx", "jmespath", "s3transfer", "dateutil", "urllib3", "typing_extensions"}
)


@dataclass(frozen=True)
class WorkflowSettings:
    """Per-workflow overrides, keyed by state machine name in ``[tool.sfn-mcp.workflows]``."""

    input_mode: InputMode | None = None
    max_wait_seconds: float | None = None
    tool_name: str | None = None
    schema_version: str | None = None
    output_schema_version: str | None = None
    title: str | None = None
    description: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None
    stop_on_cancel: bool | None = None


@dataclass(frozen=True)
class Settings:
    prefix: str = ""
    state_machines: tuple[str, ...] = ()
    tag: tuple[str, str] | None = None
    schema_tag_key: str | None = None
    output_schema_tag_key: str | None = None
    name: str = "sfn_tools"
    output: Path = Path(".")
    region: str | None = None
    profile: str | None = None
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS
    max_workers: int = DEFAULT_MAX_WORKERS
    workflows: Mapping[str, WorkflowSettings] = field(default_factory=dict)
    config_file: Path | None = None
    notes: tuple[str, ...] = ()

    def selection_summary(self) -> str:
        parts = []
        if self.prefix:
            parts.append(f"prefix {self.prefix!r}")
        if self.state_machines:
            parts.append(f"names {', '.join(self.state_machines)}")
        if not parts:
            parts.append("every state machine (no prefix or name list)")
        if self.tag:
            parts.append(f"tag {self.tag[0]}={self.tag[1]}")
        return ", ".join(parts)


def parse_tag(text: str, source: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise CompileError(f"{source}: tag must look like KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def find_config(cwd: Path) -> Path | None:
    """``./pyproject.toml`` when it has a ``[tool.sfn-mcp]`` table."""
    candidate = cwd / "pyproject.toml"
    if candidate.is_file() and "sfn-mcp" in _read_toml(candidate).get("tool", {}):
        return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompileError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CompileError(f"{path} is not valid TOML: {exc}") from exc


def _file_layer(path: Path) -> dict[str, Any]:
    """The ``[tool.sfn-mcp]`` table of a pyproject.toml, or the top level of any other file."""
    data = _read_toml(path)
    in_pyproject = path.name == "pyproject.toml" or "tool" in data or "project" in data
    table = data.get("tool", {}).get("sfn-mcp") if in_pyproject else data
    if table is None:
        raise CompileError(
            f"{path} has no [tool.sfn-mcp] table",
            hint="add one, or pass a file whose top level holds the settings",
        )
    unknown = sorted(set(table) - FILE_KEYS)
    if unknown:
        raise CompileError(
            f"{path}: unknown setting(s) {', '.join(unknown)}",
            hint=f"valid settings: {', '.join(sorted(FILE_KEYS))}",
        )
    layer = dict(table)
    if "tag" in layer:
        layer["tag-key"], layer["tag-value"] = parse_tag(str(layer.pop("tag")), str(path))
    if "output" in layer:  # relative to the file, not to wherever the command runs
        layer["output"] = (path.parent / str(layer["output"])).resolve()
    return layer


def _env_layer(env: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for variable, key in ANCHOR_ENV.items():
        value = env.get(variable, "").strip()
        if not value:
            continue
        if key == "state-machines":
            layer[key] = [name.strip() for name in value.split(",") if name.strip()]
        else:
            layer[key] = value
    return layer


def _pick_tag(layers: list[tuple[str, dict[str, Any]]]) -> tuple[str, str] | None:
    """Key and value come as a pair from the strongest layer that sets either."""
    for source, layer in layers:
        key, value = layer.get("tag-key"), layer.get("tag-value")
        if key is None and value is None:
            continue
        if not key or not value:
            missing = "value" if key else "key"
            raise CompileError(
                f"{source}: a tag filter needs both a key and a value; the {missing} is missing",
                hint="pass --tag KEY=VALUE, or set both STATE_MACHINE_TAG_KEY and "
                "STATE_MACHINE_TAG_VALUE (the anchor server silently served zero tools here)",
            )
        return str(key), str(value)
    return None


def _workflows(raw: Any, source: str) -> dict[str, WorkflowSettings]:
    if not isinstance(raw, dict):
        raise CompileError(f"{source}: 'workflows' must be a table of state machine names")
    result = {}
    for machine, table in sorted(raw.items()):
        if not isinstance(table, dict):
            raise CompileError(f"{source}: workflows.{machine} must be a table")
        unknown = sorted(set(table) - WORKFLOW_KEYS)
        if unknown:
            raise CompileError(
                f"{source}: workflows.{machine}: unknown setting(s) {', '.join(unknown)}",
                hint=f"valid settings: {', '.join(sorted(WORKFLOW_KEYS))}",
            )
        mode = table.get("input-mode")
        if mode is not None and mode not in INPUT_MODES:
            raise CompileError(
                f"{source}: workflows.{machine}.input-mode is {mode!r}; "
                f"use one of {', '.join(INPUT_MODES)}"
            )
        wait = table.get("max-wait-seconds")
        name = table.get("tool-name")
        if name is not None and not (isinstance(name, str) and TOOL_NAME.match(name)):
            raise CompileError(
                f"{source}: workflows.{machine}.tool-name {name!r} must be 1 to 64 lowercase "
                "letters, digits and underscores"
            )
        where = f"{source}: workflows.{machine}"
        switches = {
            field: _switch(table.get(key), f"{where}.{key}") for key, field in HINT_KEYS.items()
        }
        result[machine] = WorkflowSettings(
            input_mode=mode,
            max_wait_seconds=_positive(wait, f"{where}.max-wait-seconds"),
            tool_name=name,
            schema_version=_version(table.get("schema-version"), f"{where}.schema-version"),
            output_schema_version=_version(
                table.get("output-schema-version"), f"{where}.output-schema-version"
            ),
            stop_on_cancel=_switch(table.get("stop-on-cancel"), f"{where}.stop-on-cancel"),
            title=_text(table.get("title"), f"{where}.title"),
            description=_text(table.get("description"), f"{where}.description"),
            **switches,
        )
    return result


def _version(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str | int) and not isinstance(value, bool) and str(value).isdigit()):
        raise CompileError(f'{what} must be a version number like "3", got {value!r}')
    return str(value)


def _switch(value: Any, what: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise CompileError(f"{what} must be true or false, got {value!r}")
    return value


def _text(value: Any, what: str) -> str | None:
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise CompileError(f"{what} must be a non-empty string, got {value!r}")
    return value.strip() if isinstance(value, str) else None


def _positive(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= MAX_WAIT_LIMIT
    ):
        raise CompileError(
            f"{what} must be a positive number of seconds up to {MAX_WAIT_LIMIT:g}, got {value!r}"
        )
    return float(value)


def load_settings(
    cli: Mapping[str, Any],
    *,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge the three sources. ``cli`` holds only the flags the user actually gave."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path = config_path or find_config(cwd)
    file_layer = _file_layer(path) if path else {}
    cli_layer = dict(cli)
    if "tag" in cli_layer:
        cli_layer["tag-key"], cli_layer["tag-value"] = parse_tag(cli_layer.pop("tag"), "--tag")
    if "output" in cli_layer:
        cli_layer["output"] = (cwd / str(cli_layer["output"])).resolve()
    layers = [
        ("command line", cli_layer),
        (str(path) if path else "configuration file", file_layer),
        ("environment", {} if path else _env_layer(env)),
    ]

    def given(layer: dict[str, Any], key: str) -> bool:
        return layer.get(key) not in (None, "", [])

    def pick(key: str, default: Any = None) -> Any:
        for _, layer in layers:
            if given(layer, key):
                return layer[key]
        return default

    # The selection (prefix, names, tag) comes whole from the strongest source that sets any of
    # it: `--state-machine x` means that machine, not "x or whatever the file's prefix selects".
    selecting = next(
        ((source, layer) for source, layer in layers if any(given(layer, k) for k in SELECTION)),
        ("defaults", {}),
    )
    prefix = selecting[1].get("prefix") or ""
    if not isinstance(prefix, str):
        raise CompileError(f"{selecting[0]}: prefix must be a string, got {prefix!r}")
    names = selecting[1].get("state-machines") or []
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise CompileError("state-machines must be a list of state machine names")
    name = str(pick("name") or snake_case(prefix) or "sfn_tools")
    if not name.isidentifier() or name != name.lower() or name.startswith("_"):
        raise CompileError(
            f"package name {name!r} must be a lowercase Python identifier not starting with _",
            hint="pass --name like 'order_tools' (letters, digits and underscores)",
        )
    if name in sys.stdlib_module_names or name in SERVER_DEPENDENCIES:
        raise CompileError(
            f"package name {name!r} would shadow the module {name!r} that Python or the server "
            "needs, so `python -m` would not run it",
            hint="pass another --name, e.g. 'workflow_tools'",
        )
    ignored = sorted(v for v in ANCHOR_ENV if path and env.get(v, "").strip())
    notes = (f"ignoring {', '.join(ignored)}: {path} configures sfn-mcp",) if ignored else ()
    region = pick("region") or env.get("AWS_REGION") or None
    workers = pick("max-workers", DEFAULT_MAX_WORKERS)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise CompileError(f"max-workers must be an integer from 1 to 64, got {workers!r}")
    return Settings(
        prefix=prefix,
        state_machines=tuple(dict.fromkeys(names)),
        tag=_pick_tag([selecting]),
        schema_tag_key=pick("schema-tag-key"),
        output_schema_tag_key=pick("output-schema-tag-key"),
        name=name,
        output=Path(pick("output") or cwd),
        region=region,
        profile=pick("profile"),
        max_wait_seconds=_positive(pick("max-wait-seconds"), "max-wait-seconds")
        or DEFAULT_MAX_WAIT_SECONDS,
        max_workers=workers,
        workflows=_workflows(file_layer.get("workflows", {}), str(path)),
        config_file=path,
        notes=notes,
    )
