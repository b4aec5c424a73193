"""The generated package a bundle is made from: its files, its project metadata and its tools.

Everything is read from the package folder itself: ``pyproject.toml`` (distribution name,
version, description, console script), ``surface.json`` (the server's name and every tool it
lists) and the files to ship. Nothing is read from the account or the settings, so the same
folder always gives the same bundles.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.surface import MANIFEST, PackageImportError, committed_listing
from sfn_mcp.write import is_generated, read_tree

PROJECT = "pyproject.toml"
# What a package folder may hold besides the generated files and is never shipped: caches and
# what `uv run` or an editor leaves behind.
NOT_SHIPPED = re.compile(r"(^|/)(\.[^/]*|__pycache__|uv\.lock)(/|$)|\.py[cod]$")
# MCP's and the registry's version: X.Y.Z, optionally with a pre-release.
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
REGENERATE = "run `sfn-mcp generate` to write the package again"


@dataclass(frozen=True)
class BundledTool:
    name: str
    title: str
    description: str


@dataclass(frozen=True)
class Package:
    folder: Path
    import_name: str  # ai_workflows
    distribution: str  # ai-workflows (also the console script)
    version: str
    description: str
    server: str  # the MCP server's name, from surface.json
    tools: tuple[BundledTool, ...]
    regions: tuple[str, ...]  # of the state machines the tools run
    files: dict[str, bytes]  # relative path -> bytes, what the bundles ship

    @property
    def script(self) -> str:
        return self.distribution


def find_package(folder: Path) -> Path:
    """The package folder: ``folder`` itself, or the one generated package inside it."""
    if not folder.is_dir():
        raise CompileError(
            f"no generated package at {folder} (no such folder)",
            hint="run `sfn-mcp generate` first, or pass --package-dir with the package's folder "
            "(the one holding surface.json and pyproject.toml)",
        )
    if (folder / MANIFEST).is_file() or (folder / PROJECT).is_file() or is_generated(folder):
        return folder
    inside = sorted(p.parent for p in folder.glob(f"*/{MANIFEST}"))
    if len(inside) == 1:
        return inside[0]
    found = f" (it holds {len(inside)}: {', '.join(p.name for p in inside)})" if inside else ""
    raise CompileError(
        f"{folder} is not a generated package{found}",
        hint="pass --package-dir with the package's own folder (the one holding surface.json "
        "and pyproject.toml), or run `sfn-mcp generate` first",
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompileError(f"cannot read {path}: {exc.strerror or exc}", hint=REGENERATE) from None
    except ValueError as exc:
        raise CompileError(f"{path} is not valid JSON: {exc}", hint=REGENERATE) from None
    if not isinstance(data, dict):
        raise CompileError(f"{path} is not a JSON object", hint=REGENERATE)
    return data


def _read_project(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompileError(f"cannot read {path}: {exc.strerror or exc}", hint=REGENERATE) from None
    except tomllib.TOMLDecodeError as exc:
        raise CompileError(f"{path} is not valid TOML: {exc}", hint=REGENERATE) from None
    project = data.get("project")
    if not isinstance(project, dict):
        raise CompileError(f"{path} has no [project] table", hint=REGENERATE)
    return project


def _text(value: Any, what: str, path: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CompileError(f"{path}: {what} is missing or not a string", hint=REGENERATE)
    return value


def _script(project: dict[str, Any], distribution: str, import_name: str, path: Path) -> None:
    scripts = project.get("scripts")
    target = scripts.get(distribution) if isinstance(scripts, dict) else None
    if not isinstance(target, str) or not target.startswith(f"{import_name}."):
        raise CompileError(
            f"{path}: [project.scripts] has no {distribution!r} console script running "
            f"{import_name} (the bundles start the server with it)",
            hint=REGENERATE,
        )


def _tools(surface: dict[str, Any], path: Path) -> tuple[BundledTool, ...]:
    listed = surface.get("tools")
    if not isinstance(listed, list) or not listed:
        raise CompileError(f"{path} lists no tools", hint=REGENERATE)
    tools = []
    for entry in listed:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise CompileError(f"{path}: a tool without a name", hint=REGENERATE)
        tools.append(
            BundledTool(
                name=entry["name"],
                title=str(entry.get("title") or entry["name"]),
                description=str(entry.get("description") or ""),
            )
        )
    return tuple(sorted(tools, key=lambda t: t.name))


def _regions(surface: dict[str, Any]) -> tuple[str, ...]:
    regions = set()
    for entry in surface.get("tools", []):
        machine = entry.get("stateMachine") if isinstance(entry, dict) else None
        arn = machine.get("arn") if isinstance(machine, dict) else None
        if isinstance(arn, str) and arn.count(":") >= 5:
            regions.add(arn.split(":")[3])
    return tuple(sorted(r for r in regions if r))


def read_package(folder: Path, *, check_code: bool = True) -> Package:
    """The package at ``folder``, checked: generated by sfn-mcp, with its pyproject.toml and
    surface.json, and (``check_code``) the tools its code serves being the ones surface.json
    lists, so the bundles never describe other tools than the server has."""
    folder = find_package(folder.resolve())
    project_file, surface_file = folder / PROJECT, folder / MANIFEST
    missing = [p.name for p in (project_file, surface_file) if not p.is_file()]
    if missing or not is_generated(folder):
        what = " and ".join(missing) if missing else "the sfn-mcp marker in __init__.py"
        raise CompileError(
            f"{folder} is not a package sfn-mcp generated, or one from an older sfn-mcp: it has "
            f"no {what}",
            hint=f"{REGENERATE} with this sfn-mcp (packages get a pyproject.toml since 0.1), "
            "or pass --package-dir with the package's own folder",
        )
    project = _read_project(project_file)
    surface = _read_json(surface_file)
    import_name = folder.name
    distribution = _text(project.get("name"), "[project] name", project_file)
    version = _text(project.get("version"), "[project] version", project_file)
    if not SEMVER.match(version):
        raise CompileError(
            f"{project_file}: version {version!r} is not X.Y.Z (MCPB and the MCP Registry need "
            "a semantic version)",
            hint=REGENERATE,
        )
    recorded = surface.get("version")
    if recorded is not None and recorded != version:
        raise CompileError(
            f"{surface_file} says version {recorded!r}, {project_file} {version!r}",
            hint=f"the two were written apart; {REGENERATE}",
        )
    if surface.get("package") not in (None, import_name):
        raise CompileError(
            f"{surface_file} describes the package {surface.get('package')!r}, but the folder "
            f"is {import_name!r}",
            hint="bundle the folder under its generated name, or regenerate it under the new one",
        )
    _script(project, distribution, import_name, project_file)
    server = _text(surface.get("server"), '"server"', surface_file)
    tools = _tools(surface, surface_file)
    if check_code:
        _check_served(folder, tools)
    files = {path: data for path, data in read_tree(folder).items() if not NOT_SHIPPED.search(path)}
    return Package(
        folder=folder,
        import_name=import_name,
        distribution=distribution,
        version=version,
        description=str(project.get("description") or f"MCP server {server}"),
        server=server,
        tools=tools,
        regions=_regions(surface),
        files=files,
    )


def _check_served(folder: Path, tools: tuple[BundledTool, ...]) -> None:
    try:
        served = committed_listing(folder)
    except PackageImportError as exc:
        raise CompileError(f"{folder}: {exc}", hint=REGENERATE) from None
    listed = {t.name: t.description for t in tools}
    serves = {str(t["name"]): str(t.get("description") or "") for t in served.tools}
    if listed != serves:
        differ = sorted(n for n in listed.keys() | serves.keys() if listed.get(n) != serves.get(n))
        raise CompileError(
            f"{folder}: the code serves other tools than {MANIFEST} lists ({', '.join(differ)})",
            hint="run `sfn-mcp check --offline` to see how, then `sfn-mcp generate`",
        )
