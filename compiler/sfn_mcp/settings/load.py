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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.naming import snake_case
from sfn_mcp.settings.declared import (
    ANCHOR_TAG_VALUE,
    DEFAULT_MAX_WORKERS,
    FILE_SETTINGS,
    PACKAGE_ID,
    PACKAGE_SETTINGS,
    PACKAGE_TABLES,
    PACKAGES_KEY,
    RESOURCE_SETTINGS,
    RESOURCES_KEY,
    RUN_WIDE_FLAGS,
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
    # The id of its [tool.sfn-mcp.packages.<id>] table; None without a packages table.
    package: str | None = None
    # Its workflows tables that come from the top-level table alone: they apply to the packages
    # that select the machine, so another package does not warn about them.
    shared_workflows: frozenset[str] = frozenset()

    @property
    def folder(self) -> Path:
        """The package's folder: ``output/name``."""
        return self.output / self.name

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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CompileError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    return _parse_toml(text, path)


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CompileError(f"{path} is not valid TOML: {exc}") from exc


def _unknown(table: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    known = set(known)
    unknown = sorted(set(table) - set(known))
    if unknown:
        guesses = [
            f"{key!r} → {near[0]!r}"
            for key in unknown
            if (near := difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75))
        ]
        if len(unknown) == 1 and guesses:
            guesses = [guesses[0].split(" → ")[1]]
        guess = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
        raise CompileError(
            f"{where}: unknown setting(s) {', '.join(unknown)}{guess}",
            hint=f"valid settings: {', '.join(sorted(known))}",
        )


@dataclass(frozen=True)
class _Tables:
    workflows: dict[str, WorkflowSettings] = field(default_factory=dict)
    resources: dict[str, ResourceSettings] = field(default_factory=dict)
    schemas: dict[str, SchemaFileSettings] = field(default_factory=dict)


RawTables = dict[str, dict[str, dict[str, Any]]]  # table key → name → checked values by field
TABLE_SETTINGS = {
    WORKFLOWS_KEY: WORKFLOW_SETTINGS,
    RESOURCES_KEY: RESOURCE_SETTINGS,
    SCHEMAS_KEY: SCHEMA_SETTINGS,
}


@dataclass(frozen=True)
class _Config:
    """A configuration file read and checked: its top-level table's settings and named tables,
    and its package tables (by id, in the file's order), each with its own settings and tables."""

    path: Path
    where: str  # how messages name the top-level table: "pyproject.toml [tool.sfn-mcp]"
    header: str  # how a package table is spelt: "tool.sfn-mcp.packages" or "packages"
    layer: dict[str, Any]
    tables: RawTables
    packages: dict[str, tuple[dict[str, Any], RawTables]] | None  # None: no packages table

    def package_where(self, package: str) -> str:
        return f"{self.path} [{self.header}.{package}]"


def _read_config(path: Path, text: str | None = None) -> _Config:
    """The ``[tool.sfn-mcp]`` table of a pyproject.toml, or the top level of any other file,
    with every value checked: the package settings, the tables of per-workflow, per-resource and
    per-schema ones, and the package tables. ``text``: the file's content as given (a file at
    a git revision), read from ``path`` otherwise."""
    data = _read_toml(path) if text is None else _parse_toml(text, path)
    in_pyproject = path.name == "pyproject.toml" or "tool" in data or "project" in data
    table = data.get("tool", {}).get("sfn-mcp") if in_pyproject else data
    if table is None:
        raise CompileError(
            f"{path} has no {TABLE} table",
            hint="add one, or pass a file whose top level holds the settings",
        )
    where = f"{path} {TABLE}" if in_pyproject else str(path)
    header = f"tool.sfn-mcp.{PACKAGES_KEY}" if in_pyproject else PACKAGES_KEY
    layer, tables = _layer(table, where, path.parent, TABLES)
    packages = None
    if PACKAGES_KEY in table:
        raw = table[PACKAGES_KEY]
        if not isinstance(raw, dict) or not raw:
            raise CompileError(
                f"{where}: '{PACKAGES_KEY}' must be a table of package tables, one per package",
                hint=f'add e.g. [{header}.payments] with prefix = "payments-" and '
                'output = "generated", or remove it for one package',
            )
        packages = {}
        for package, values in raw.items():
            at = f"{path} [{header}.{package}]"
            if not PACKAGE_ID.fullmatch(package):
                raise CompileError(
                    f"{at}: the package id {package!r} must be 1 to 64 letters, digits, '.', "
                    "'_' or '-', starting with a letter or digit",
                    hint="rename the table (the id is what --package takes and every message "
                    "of the package names)",
                )
            if not isinstance(values, dict):
                raise CompileError(f"{at} must be a table of settings")
            packages[package] = _layer(values, at, path.parent, PACKAGE_TABLES)
    return _Config(path, where, header, layer, tables, packages)


def _layer(
    table: Mapping[str, Any], where: str, base: Path, allowed: Sequence[str]
) -> tuple[dict[str, Any], RawTables]:
    _unknown(table, {*FILE_SETTINGS, *allowed}, where)
    layer = {
        key: checked(FILE_SETTINGS[key], value, where)
        for key, value in table.items()
        if key not in TABLES
    }
    _relative_paths(layer, base)  # to the file, not to wherever the command runs
    tables = {
        key: _table(table, key, declared, where, base) for key, declared in TABLE_SETTINGS.items()
    }
    return layer, tables


def _tables(raw: RawTables, where: str) -> _Tables:
    return _Tables(
        workflows={name: WorkflowSettings(**values) for name, values in raw[WORKFLOWS_KEY].items()},
        resources={name: ResourceSettings(**values) for name, values in raw[RESOURCES_KEY].items()},
        schemas=_schemas(raw[SCHEMAS_KEY], where),
    )


def _merged(top: RawTables, package: RawTables) -> RawTables:
    """A package's named tables over the top-level ones, setting by setting: a package's
    ``[...workflows."m"] title`` changes the title alone, the rest of ``m``'s settings stay."""
    return {
        key: {
            name: {**top[key].get(name, {}), **package[key].get(name, {})}
            for name in sorted({*top[key], *package[key]})
        }
        for key in TABLE_SETTINGS
    }


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
        if value not in (None, (), []) and FILE_SETTINGS.get(key)
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


def _package_name(name: str, package: str | None = None) -> str:
    if not name.isidentifier() or name != name.lower() or name.startswith("_"):
        from_id = " (made from the package id)" if package and snake_case(package) == name else ""
        raise CompileError(
            f"package name {name!r}{from_id} must be a lowercase Python identifier not starting "
            "with _",
            hint="pass --name like 'order_tools' (letters, digits and underscores)"
            if package is None
            else "set name = 'order_tools' in the package table (letters, digits and underscores)",
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
    for the configuration file from ``cwd`` upwards when none is given. A configuration with
    package tables must configure exactly one package here (``load_packages`` reads several)."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path = config_path or (find_config(cwd) if search else None)
    config = _read_config(path) if path else None
    if config is not None and config.packages is not None:
        if len(config.packages) != 1:
            raise CompileError(
                f"{config.where} configures {len(config.packages)} packages "
                f"({', '.join(config.packages)}), and this command works on one",
                hint="choose one with --package ID (sfn-mcp bundle: --package-dir with its folder)",
            )
        return _packages(config, cli, env, cwd, ())[0]
    return _single(config, cli, env, cwd)


def load_packages(
    cli: Mapping[str, Any],
    *,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    search: bool = True,
    only: Sequence[str] = (),
    text: str | None = None,
) -> list[Settings]:
    """The settings of every package the configuration holds (its
    ``[tool.sfn-mcp.packages.<id>]`` tables, in the file's order), or of the ``only`` ones;
    without package tables, the one package of ``load_settings``. ``text``: the configuration
    file's content at ``config_path`` (a git revision of it) instead of the file."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path = config_path or (find_config(cwd) if search else None)
    config = _read_config(path, text) if path else None
    if config is None or config.packages is None:
        if only:
            where = config.where if config else "no configuration file was found, so it"
            header = config.header if config else f"tool.sfn-mcp.{PACKAGES_KEY}"
            raise CompileError(
                f"--package {only[0]}: {where} has no [{header}.<id>] tables",
                hint="leave out --package (the configuration is one package), or configure "
                "several: [tool.sfn-mcp.packages.<id>] tables",
            )
        return [_single(config, cli, env, cwd)]
    return _packages(config, cli, env, cwd, only)


def _single(
    config: _Config | None, cli: Mapping[str, Any], env: Mapping[str, str], cwd: Path
) -> Settings:
    if config is None:
        return _resolve(cli, [], _Tables(), None, env, cwd)
    tables = _tables(config.tables, config.where)
    return _resolve(cli, [(str(config.path), config.layer)], tables, config.path, env, cwd)


def _packages(
    config: _Config,
    cli: Mapping[str, Any],
    env: Mapping[str, str],
    cwd: Path,
    only: Sequence[str],
) -> list[Settings]:
    assert config.packages is not None
    ids = list(config.packages)
    for package in only:
        if package not in config.packages:
            near = difflib.get_close_matches(package, ids, n=1)
            raise CompileError(
                f"--package {package}: {config.where} has no package {package!r}"
                + (f" (did you mean {near[0]!r}?)" if near else ""),
                hint=f"the packages are {', '.join(ids)} ([{config.header}.<id>] tables)",
            )
    chosen = [package for package in ids if package in only] if only else ids
    given = sorted(
        PACKAGE_SETTINGS[key].flag or key
        for key, value in cli.items()
        if key not in RUN_WIDE_FLAGS and value not in (None, (), [])
    )
    if given and len(chosen) > 1:
        raise CompileError(
            f"{', '.join(given)} would apply to each of the {len(chosen)} packages "
            f"({', '.join(chosen)}) that {config.where} configures",
            hint="choose the package they are for with --package ID, or set them in its "
            f"[{config.header}.<id>] table",
        )
    resolved = []
    for package in ids:
        layer, raw = config.packages[package]
        where = config.package_where(package)
        try:
            settings = _resolve(
                cli if package in chosen else {},
                [(where, layer), (str(config.path), config.layer)],
                _tables(_merged(config.tables, raw), where),
                config.path,
                env,
                cwd,
                package=package,
            )
        except CompileError as exc:
            raise _located(exc, where) from exc
        shared = frozenset(config.tables[WORKFLOWS_KEY]) - set(raw[WORKFLOWS_KEY])
        resolved.append(replace(settings, shared_workflows=shared))
    named: dict[str, Settings] = {}
    for settings in resolved:
        other = named.setdefault(settings.name, settings)
        if other is not settings:
            assert other.package and settings.package
            first, second = (config.package_where(p) for p in (other.package, settings.package))
            raise CompileError(
                f"{first} and {second} both make the package {settings.name!r} ("
                + (
                    f"{other.folder}"
                    if other.folder == settings.folder
                    else f"{other.folder} and {settings.folder}"
                )
                + "): one would overwrite the other, or shadow it where both are installed",
                hint='give each its own name = "..." (the default is the package id in snake_case)',
            )
    return [settings for settings in resolved if settings.package in chosen]


def _located(exc: CompileError, where: str) -> CompileError:
    """The error, each problem prefixed with the package table it is about."""
    problems = [
        d if d.message.startswith(where) else replace(d, message=f"{where}: {d.message}")
        for d in exc.diagnostics
    ]
    return CompileError(problems, hint=exc.hint, context=exc.context)


def _resolve(
    cli: Mapping[str, Any],
    files: Sequence[tuple[str, dict[str, Any]]],
    tables: _Tables,
    path: Path | None,
    env: Mapping[str, str],
    cwd: Path,
    *,
    package: str | None = None,
) -> Settings:
    """The settings of one package: the flags over the file's layers (a package table, then the
    top-level table), over the anchor's variables when there is no file."""
    layers = [
        ("command line", _cli_layer(cli, cwd)),
        *(files or [("configuration file", {})]),
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
    table = f"[tool.sfn-mcp] or [tool.sfn-mcp.{PACKAGES_KEY}.{package}]" if package else TABLE
    if source == "cloudformation" and not templates:
        raise CompileError(
            "source = cloudformation needs the templates to read",
            hint=f'set templates = ["template.yaml"] in {table} (files or folders such as '
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
        name=_package_name(
            str(pick("name") or snake_case(package or prefix) or "sfn_tools"), package
        ),
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
        package=package,
    )
