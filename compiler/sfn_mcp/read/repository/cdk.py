"""The templates named by ``templates``: files as given, and folders read as a CDK cloud assembly
(``cdk.out``).

In a folder, every ``*.template.json`` is a template, and so is every one of its nested
assemblies (``assembly-*/``, and the folders ``nestedCloudAssembly`` artifacts of a
``manifest.json`` name), at any depth. Where a ``manifest.json`` describes a template's stack
(an ``aws:cloudformation:stack`` artifact), its ``environment`` (``aws://ACCOUNT/REGION``, unless
CDK left it ``unknown-account``/``unknown-region``) gives the stack's account and region, and its
``properties.stackName`` (else the artifact id) the stack's name: these are used over the
settings for that template.

Each template has a *scope*, its file name without ``.template.json`` (or without its suffix),
which ``[tool.sfn-mcp.resources."<scope>/<LogicalId>"]`` uses to name one template's resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError

TEMPLATE_GLOB = "*.template.json"  # what `cdk synth` writes into cdk.out (and assembly-*/)
TEMPLATE_SUFFIX = ".template.json"
UNKNOWN = ("unknown-account", "unknown-region")


@dataclass(frozen=True)
class Template:
    path: Path
    account: str | None = None  # from the CDK manifest; None: the settings'
    region: str | None = None
    stack_name: str | None = None

    @property
    def scope(self) -> str:
        name = self.path.name
        return name[: -len(TEMPLATE_SUFFIX)] if name.endswith(TEMPLATE_SUFFIX) else self.path.stem


def templates(paths: Iterable[Path]) -> list[Template]:
    """The templates to read: each file as given, each folder as a cloud assembly."""
    found: list[Template] = []
    for path in paths:
        if not path.is_dir():
            found.append(Template(path))
            continue
        assembly = _assembly(path, set())
        if not assembly:
            yaml_files = sorted(p.name for p in path.glob("*.y*ml"))
            raise CompileError(
                f"template folder {path} holds no {TEMPLATE_GLOB} (nor assembly-*/ with one): a "
                "folder is read as CDK's cdk.out"
                + (f" (it holds {', '.join(yaml_files[:5])})" if yaml_files else ""),
                hint="run `cdk synth` first, or name the template files one by one in templates "
                '(YAML templates are always named: templates = ["template.yaml"])',
            )
        found.extend(assembly)
    return found


def _assembly(folder: Path, seen: set[Path]) -> list[Template]:
    resolved = folder.resolve()
    if resolved in seen:
        return []
    seen.add(resolved)
    stacks, nested = _manifest(folder)
    found = [stacks.get(path.name, Template(path)) for path in sorted(folder.glob(TEMPLATE_GLOB))]
    children = {p for p in folder.glob("assembly-*") if p.is_dir()}
    children |= {folder / name for name in nested if (folder / name).is_dir()}
    for child in sorted(children):
        found.extend(_assembly(child, seen))
    return found


def _manifest(folder: Path) -> tuple[dict[str, Template], list[str]]:
    """The stacks a folder's ``manifest.json`` describes (by template file name) and the folders
    of its nested assemblies."""
    path = folder / "manifest.json"
    if not path.is_file():
        return {}, []
    try:
        manifest = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CompileError(
            f"CDK manifest {path} cannot be read: {exc}", hint="run `cdk synth` again"
        ) from None
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    stacks: dict[str, Template] = {}
    nested: list[str] = []
    for artifact_id, artifact in (artifacts if isinstance(artifacts, dict) else {}).items():
        if not isinstance(artifact, dict):
            continue
        properties = artifact.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        kind = artifact.get("type")
        if kind == "cdk:cloud-assembly" and isinstance(properties.get("directoryName"), str):
            nested.append(properties["directoryName"])
        if kind != "aws:cloudformation:stack":
            continue
        file = properties.get("templateFile")
        if not isinstance(file, str):
            continue
        account, region = _environment(artifact.get("environment"))
        stack_name = properties.get("stackName")
        stacks[Path(file).name] = Template(
            folder / file,
            account=account,
            region=region,
            stack_name=stack_name if isinstance(stack_name, str) and stack_name else artifact_id,
        )
    return stacks, nested


def _environment(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or not value.startswith("aws://"):
        return None, None
    parts = value[len("aws://") :].split("/")
    if len(parts) != 2:
        return None, None
    account, region = (p if p and p not in UNKNOWN else None for p in parts)
    return account, region
