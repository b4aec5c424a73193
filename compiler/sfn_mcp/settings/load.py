"""Stage 1, settings: CLI flags over the configuration file, or over the anchor's variables.

The anchor server's variables (``STATE_MACHINE_*``) are read only when no configuration file is in
use: they let users of awslabs-stepfunctions-tool-mcp-server switch over with the settings they
have, while a committed ``[tool.sfn-mcp]`` table makes ``make generate`` give the same package on
every machine, whatever the shell exports. Every value is checked against its declaration
(``declared.py``), and a wrong one is named with its key and the file it came from.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.naming import snake_case
from sfn_mcp.settings.declared import (
    ANCHOR_TAG_VALUE,
    DEFAULT_MAX_WORKERS,
    PACKAGE_SETTINGS,
    RESOURCE_SETTINGS,
    RESOURCES_KEY,
    SCHEMA_SETTINGS,
    SCHEMAS_KEY,
    SELECTION,
    TABLES,
    WORKFLOW_SETTINGS,
    WORKFLOWS_KEY,
    Setting,
)
from sfn_mcp_runtime.contract import (
    DEFAULT_MAX_WAIT_SECONDS,
    DEFAULT_POLL_INTERVAL_SECONDS,
    SERVER_MODULES,
)

InputMode = Literal["envelope", "detail"]
TABLE = "[tool.sfn-mcp]"


@dataclass(frozen=True)
class WorkflowSettings:
    """Per-workflow overrides, keyed by state machine name in ``[tool.sfn-mcp.workflows]``."""

    input_mode: InputMode | None = None
    max_wait_seconds: float | None = None
    poll_interval_seconds: float | None = None
    confirm: bool | None = None
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
    target: str | None = None
    input: Literal["schema", "inferred", "free-form"] | None = None
    schema_file: str | None = None  # resolved against the configuration file's folder
    # source = "files": the machine's ASL file (absolute), its type and tags.
    definition_file: Path | None = None
    type: Literal["STANDARD", "EXPRESS"] | None = None
    tags: Mapping[str, str] | None = None


Source = Literal["account", "files", "cloudformation"]


@dataclass(frozen=True)
class ResourceSettings:
    """What a template cannot say before deployment, keyed by logical id in
    ``[tool.sfn-mcp.resources]``: the deployed name or ARN, a schema's deployed version, or the
    local file behind an S3 definition location."""

    name: str | None = None
    arn: str | None = None
    version: str | None = None
    definition_file: Path | None = None  # absolute


@dataclass(frozen=True)
class SchemaFileSettings:
    """A registry schema kept as a file, keyed by its ARN in ``[tool.sfn-mcp.schemas]``: what
    DescribeSchema would answer, for sources other than the account."""

    file: Path  # absolute
    type: Literal["OpenApi3", "JSONSchemaDraft4"] | None = None  # None: OpenApi3 if "openapi" in it
    version: str = "1"
    description: str = ""


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
    poll_interval_seconds: float = DEFAULT_POLL_INTERVAL_SECONDS
    max_workers: int = DEFAULT_MAX_WORKERS
    strict: bool = False
    client_profile: Literal["portable", "exact"] = "portable"
    surface: Literal["all", "search"] = "all"
    target: str = "latest"
    workflows: Mapping[str, WorkflowSettings] = field(default_factory=dict)
    # Where the machines come from; for "files" and "cloudformation", what the ARNs name.
    source: Source = "account"
    templates: tuple[Path, ...] = ()  # absolute: template files, or folders such as cdk.out
    account: str | None = None
    partition: str = "aws"
    stack_name: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, ResourceSettings] = field(default_factory=dict)
    schemas: Mapping[str, SchemaFileSettings] = field(default_factory=dict)
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


def checked(setting: Setting, value: Any, where: str) -> Any:
    """The value as the setting's type, or an error naming the setting and where it came from."""
    try:
        return setting.kind.check(value)
    except ValueError:
        raise CompileError(
            f"{where}: {setting.key} must be {setting.kind.describe}, got {value!r}"
        ) from None


def find_config(cwd: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.sfn-mcp]`` table, from ``cwd`` up to the
    repository root (the folder holding ``.git``), so every command works from any subfolder."""
    for folder in (cwd, *cwd.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            tools = _read_toml(candidate).get("tool", {})
            if "sfn-mcp" in tools:
                return candidate
            near = [key for key in tools if _near_miss(key)]
            if near:
                raise CompileError(
                    f"{candidate} has a table [tool.{near[0]}], which sfn-mcp does not read",
                    hint="rename it to [tool.sfn-mcp]",
                )
        if (folder / ".git").exists():
            break
    return None


def _near_miss(key: str) -> bool:
    """``sfn_mcp``, ``SFN-MCP``, ``sfn-mpc`` …: a table meant for sfn-mcp under another name."""
    folded = re.sub(r"[^a-z0-9]", "", key.lower())
    return folded == "sfnmcp" or bool(difflib.get_close_matches(key.lower(), ["sfn-mcp"], 1, 0.8))


def missing_config(cwd: Path) -> CompileError:
    """The error for a command that needs a configuration and found none."""
    return CompileError(
        f"no [tool.sfn-mcp] table in {cwd / 'pyproject.toml'} or any folder above it up to the "
        "repository root, so there is no package to check",
        hint="run `sfn-mcp init` with the flags you give `sfn-mcp generate` (it writes the "
        'table), or add one yourself, e.g.\n  [tool.sfn-mcp]\n  prefix = "my-team-"\n'
        '  schema-tag-key = "input-schema-arn"\n  name = "my_team_tools"\n  output = "generated"',
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompileError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CompileError(f"{path} is not valid TOML: {exc}") from exc


def _unknown(table: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    known = set(known)
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise CompileError(
            f"{where}: unknown setting(s) {', '.join(unknown)}",
            hint=f"valid settings: {', '.join(sorted(known))}",
        )


@dataclass(frozen=True)
class _Tables:
    workflows: dict[str, WorkflowSettings] = field(default_factory=dict)
    resources: dict[str, ResourceSettings] = field(default_factory=dict)
    schemas: dict[str, SchemaFileSettings] = field(default_factory=dict)


def _file_layer(path: Path) -> tuple[dict[str, Any], _Tables]:
    """The ``[tool.sfn-mcp]`` table of a pyproject.toml, or the top level of any other file,
    with every value checked: the package settings and the tables of per-workflow, per-resource
    and per-schema ones."""
    data = _read_toml(path)
    in_pyproject = path.name == "pyproject.toml" or "tool" in data or "project" in data
    table = data.get("tool", {}).get("sfn-mcp") if in_pyproject else data
    if table is None:
        raise CompileError(
            f"{path} has no {TABLE} table",
            hint="add one, or pass a file whose top level holds the settings",
        )
    where = f"{path} {TABLE}" if in_pyproject else str(path)
    _unknown(table, {*PACKAGE_SETTINGS, *TABLES}, where)
    layer = {
        key: checked(PACKAGE_SETTINGS[key], value, where)
        for key, value in table.items()
        if key not in TABLES
    }
    _relative_paths(layer, path.parent)  # to the file, not to wherever the command runs
    base = path.parent
    tables = _Tables(
        workflows={
            name: WorkflowSettings(**values)
            for name, values in _table(table, WORKFLOWS_KEY, WORKFLOW_SETTINGS, where, base).items()
        },
        resources={
            name: ResourceSettings(**values)
            for name, values in _table(table, RESOURCES_KEY, RESOURCE_SETTINGS, where, base).items()
        },
        schemas=_schemas(_table(table, SCHEMAS_KEY, SCHEMA_SETTINGS, where, base), where),
    )
    return layer, tables


def _relative_paths(layer: dict[str, Any], base: Path) -> None:
    if "output" in layer:
        layer["output"] = (base / layer["output"]).resolve()
    if "templates" in layer:
        layer["templates"] = tuple((base / t).resolve() for t in layer["templates"])


PATH_FIELDS = ("definition_file", "file")  # in the tables: files relative to the configuration


def _cli_layer(cli: Mapping[str, Any], cwd: Path) -> dict[str, Any]:
    layer = {
        key: checked(PACKAGE_SETTINGS[key], value, PACKAGE_SETTINGS[key].flag or key)
        for key, value in cli.items()
        if value not in (None, (), [])
    }
    _relative_paths(layer, cwd)
    return layer


def _env_layer(env: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for setting in PACKAGE_SETTINGS.values():
        value = env.get(setting.env or "", "").strip()
        if not value or setting.key == "tag":
            continue
        if setting.key == "state-machines":
            layer[setting.key] = tuple(n.strip() for n in value.split(",") if n.strip())
        else:
            layer[setting.key] = value
    key = env.get(PACKAGE_SETTINGS["tag"].env or "", "").strip()
    value = env.get(ANCHOR_TAG_VALUE, "").strip()
    if key or value:  # checked only if this layer is the one that selects
        layer["tag"] = (key, value)
    return layer


WHAT_NAMES = {
    WORKFLOWS_KEY: "state machine names",
    RESOURCES_KEY: "logical ids of template resources",
    SCHEMAS_KEY: "schema ARNs",
}


def _table(
    data: Mapping[str, Any],
    key: str,
    declared: Mapping[str, Setting],
    where: str,
    base: Path,
) -> dict[str, dict[str, Any]]:
    """One of the named tables (workflows, resources, schemas): per name, its checked values by
    field, with file paths made absolute against the configuration file's folder."""
    raw = data.get(key, {})
    if not isinstance(raw, dict):
        raise CompileError(f"{where}: '{key}' must be a table of {WHAT_NAMES[key]}")
    result = {}
    for name, table in sorted(raw.items()):
        at = f"{where} {key}.{name}"
        if not isinstance(table, dict):
            raise CompileError(f"{at} must be a table")
        _unknown(table, declared, at)
        values = {
            declared[item].field: checked(declared[item], value, at)
            for item, value in table.items()
        }
        if values.get("schema_file"):
            values["schema_file"] = str((base / values["schema_file"]).resolve())
        for path_field in PATH_FIELDS:
            if values.get(path_field):
                values[path_field] = (base / values[path_field]).resolve()
        result[name] = values
    return result


def _schemas(tables: dict[str, dict[str, Any]], where: str) -> dict[str, SchemaFileSettings]:
    result = {}
    for arn, values in tables.items():
        if "file" not in values:
            raise CompileError(
                f'{where} {SCHEMAS_KEY}."{arn}": a schema kept as a file needs file = "PATH"'
            )
        result[arn] = SchemaFileSettings(**values)
    return result


def _package_name(name: str) -> str:
    if not name.isidentifier() or name != name.lower() or name.startswith("_"):
        raise CompileError(
            f"package name {name!r} must be a lowercase Python identifier not starting with _",
            hint="pass --name like 'order_tools' (letters, digits and underscores)",
        )
    if name in sys.stdlib_module_names or name in SERVER_MODULES:
        raise CompileError(
            f"package name {name!r} would shadow the module {name!r} that Python or the server "
            "needs, so `python -m` would not run it",
            hint="pass another --name, e.g. 'workflow_tools'",
        )
    return name


def load_settings(
    cli: Mapping[str, Any],
    *,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    search: bool = True,
) -> Settings:
    """Merge the three sources. ``cli`` holds the flags given, by setting key; ``search``: look
    for the configuration file from ``cwd`` upwards when none is given."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path = config_path or (find_config(cwd) if search else None)
    file_layer, tables = _file_layer(path) if path else ({}, _Tables())
    layers = [
        ("command line", _cli_layer(cli, cwd)),
        (str(path) if path else "configuration file", file_layer),
        ("environment", {} if path else _env_layer(env)),
    ]

    def pick(key: str) -> Any:
        for _, layer in layers:
            if key in layer:
                return layer[key]
        return PACKAGE_SETTINGS[key].default

    # The selection (prefix, names, tag) comes whole from the strongest source that sets any of
    # it: `--state-machine x` means that machine, not "x or whatever the file's prefix selects".
    selecting = next((layer for _, layer in layers if any(key in layer for key in SELECTION)), {})
    prefix = selecting.get("prefix", "")
    tag = selecting.get("tag")
    if tag and not all(tag):
        missing = "value" if tag[0] else "key"
        raise CompileError(
            f"environment: a tag filter needs both a key and a value; the {missing} is missing",
            hint="pass --tag KEY=VALUE, or set both STATE_MACHINE_TAG_KEY and "
            f"{ANCHOR_TAG_VALUE} (the anchor server silently served zero tools here)",
        )
    ignored = sorted(
        s.env for s in PACKAGE_SETTINGS.values() if s.env and path and env.get(s.env, "").strip()
    )
    if path and env.get(ANCHOR_TAG_VALUE, "").strip():
        ignored = sorted({*ignored, ANCHOR_TAG_VALUE})
    notes: tuple[str, ...] = ()
    if ignored:
        notes += (f"ignoring {', '.join(ignored)}: {path} configures sfn-mcp",)
    source = pick("source")
    templates = pick("templates") or ()
    if source == "cloudformation" and not templates:
        raise CompileError(
            "source = cloudformation needs the templates to read",
            hint='set templates = ["template.yaml"] in [tool.sfn-mcp] (files or folders such as '
            "cdk.out), or pass --template PATH",
        )
    if source == "files" and not any(w.definition_file for w in tables.workflows.values()):
        raise CompileError(
            "source = files needs at least one workflow with a definition file",
            hint='add [tool.sfn-mcp.workflows."<state machine name>"] with definition-file = '
            '"path/to/definition.asl.json" (and type, tags)',
        )
    unused = sorted(
        name
        for name, w in tables.workflows.items()
        if source != "files" and (w.definition_file or w.type or w.tags is not None)
    )
    if unused:
        notes += (
            f"ignoring definition-file, type and tags of {', '.join(unused)}: they apply to "
            f"source = files, and the source is {source}",
        )
    return Settings(
        prefix=prefix,
        state_machines=selecting.get("state-machines", ()),
        tag=tag,
        schema_tag_key=pick("schema-tag-key"),
        output_schema_tag_key=pick("output-schema-tag-key"),
        name=_package_name(str(pick("name") or snake_case(prefix) or "sfn_tools")),
        output=Path(pick("output") or cwd),
        region=pick("region") or env.get("AWS_REGION") or None,
        profile=pick("profile"),
        max_wait_seconds=pick("max-wait-seconds"),
        poll_interval_seconds=pick("poll-interval-seconds"),
        max_workers=pick("max-workers"),
        strict=pick("strict"),
        client_profile=pick("client-profile"),
        surface=pick("surface"),
        target=pick("target"),
        workflows=tables.workflows,
        source=source,
        templates=templates,
        account=pick("account"),
        partition=pick("partition"),
        stack_name=pick("stack-name"),
        parameters=pick("parameters") or {},
        resources=tables.resources,
        schemas=tables.schemas,
        config_file=path,
        notes=notes,
    )
