"""The read stage from a repository instead of an account: the same records (``MachineSource``),
made from files, with no AWS call.

- ``source = "cloudformation"``: the state machines and schemas of CloudFormation, SAM and CDK
  templates (``cloudformation.py``; intrinsics in ``intrinsics.py``);
- ``source = "files"``: plain definition files named per workflow (``files.py``).

Selection (prefix, names, tag) and schema tags work as for the account (``read.select``,
``read.schema_tags``). A schema tag is looked up in the templates' ``AWS::EventSchemas::Schema``
resources, then in ``[tool.sfn-mcp.schemas."<arn>"]`` (a registry schema kept as a file); a
template schema's version is ``[tool.sfn-mcp.resources.<id>] version``, else ``1`` (what the
registry gives a new schema, said in a note).

A definition given as an object (a ``Definition`` property, a YAML file) is deployed as the text
``definition_text`` makes; one given as text (``DefinitionString``, ``DefinitionUri``, a JSON
file) is deployed as it is, after substitutions. The seeder of the examples deploys the same
text, so that a compile from the files equals one from the account they were deployed to.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError, Diagnostics, Progress, quiet
from sfn_mcp.read.records import MachineSource, Role, SchemaSource, Selected
from sfn_mcp.read.repository.cdk import Template, templates
from sfn_mcp.read.repository.cloudformation import TemplateReader
from sfn_mcp.read.repository.files import missing_location, read_files
from sfn_mcp.read.repository.found import FoundMachine, FoundSchema, shown
from sfn_mcp.read.repository.load import definition_text, load_template, read_text
from sfn_mcp.read.schema_tags import (
    SUPPORTED_SCHEMA_TYPES,
    Request,
    definition_comment,
    schema_requests,
)
from sfn_mcp.read.select import by_name, by_tag, note_unfiltered
from sfn_mcp.settings import ResourceSettings, Settings, WorkflowSettings

__all__ = ["definition_text", "read_repository", "shown"]


Documents = dict[Path, dict[str, Any] | CompileError]  # templates read in this run, by path


def read_repository(
    settings: Settings,
    diagnostics: Diagnostics,
    *,
    progress: Progress = quiet,
    documents: Documents | None = None,
) -> list[MachineSource]:
    """The selected machines of the repository, as the account reader would give them once the
    files are deployed. Problems go into ``diagnostics``; an unreadable file raises.
    ``documents``: the templates the run has read already (the packages of one run read each
    template once), filled with those read here."""
    files: list[Template] = []
    if settings.source == "cloudformation":
        if not settings.templates:
            raise CompileError(
                'source "cloudformation": no templates to read',
                hint='set templates = ["template.yaml"] (or a cdk.out folder) in [tool.sfn-mcp]',
            )
        files = templates(settings.templates)
    missing = missing_location(settings)
    if files:  # a CDK manifest may say where each stack is deployed
        missing = [k for k in missing if not all(getattr(t, k) for t in files)]
    if missing:
        diagnostics.error(
            f"source {settings.source}: {' and '.join(missing)} not set, so the state machines' "
            "ARNs cannot be made",
            hint=f"set {' and '.join(f'{key} = ...' for key in missing)} in [tool.sfn-mcp] "
            "(where the package's machines are deployed)",
        )
    schemas: dict[str, FoundSchema] = {}
    if settings.source == "files":
        found = read_files(settings, diagnostics)
        if not any(w.definition_file for w in settings.workflows.values()):
            diagnostics.error(
                'source "files": no workflow has a definition-file',
                hint='add [tool.sfn-mcp.workflows."<machine name>"] definition-file = "…"',
            )
    elif settings.source == "cloudformation":
        found = []
        known = documents if documents is not None else {}
        fresh = [t for t in files if t.path not in known]
        if fresh or documents is None:
            progress(f"Reading {len(files)} template(s) ...")
        else:
            progress(f"Using the {len(files)} template(s) read for an earlier package")
        loaded = [(t, _document(t.path, shown(t.path, settings), known)) for t in files]
        _check_parameter_keys(settings, [doc for _, doc in loaded], diagnostics)
        scoped = _scoped_resources(settings, loaded, diagnostics)
        for (template, document), overrides in zip(loaded, scoped, strict=True):
            reader = TemplateReader(
                template.path,
                document,
                settings,
                diagnostics,
                source=template,
                overrides=overrides,
            )
            reader.check_parameters()
            found.extend(reader.machines())
            schemas.update(reader.schemas())
    else:
        raise CompileError(f"read_repository reads files, not the source {settings.source!r}")
    if missing:
        return []
    return _compile(settings, _unique(found, diagnostics), schemas, diagnostics)


def _document(path: Path, label: str, known: Documents) -> dict[str, Any]:
    """A template's document, parsed once per run (a copy: readers may change theirs)."""
    if path not in known:
        try:
            known[path] = load_template(path, label)
        except CompileError as exc:
            known[path] = exc
    document = known[path]
    if isinstance(document, CompileError):
        raise document
    return copy.deepcopy(document)


def _resources_of(document: Mapping[str, Any]) -> Mapping[str, Any]:
    resources = document.get("Resources")
    return resources if isinstance(resources, dict) else {}


def _check_parameter_keys(
    settings: Settings, documents: list[Mapping[str, Any]], diagnostics: Diagnostics
) -> None:
    """Every ``parameters`` key names a parameter of some template."""
    declared = sorted(
        {
            name
            for document in documents
            if isinstance(document.get("Parameters"), dict)
            for name in document["Parameters"]
        }
    )
    for key in sorted(settings.parameters):
        if key in declared:
            continue
        close = difflib.get_close_matches(key, declared, n=1)
        diagnostics.error(
            f"[tool.sfn-mcp.parameters] {key}: no template declares a parameter {key!r}"
            + (f" (did you mean {close[0]!r}?)" if close else ""),
            hint="the templates' parameters are "
            + (", ".join(declared) if declared else "none")
            + "; fix or remove the key",
        )


def _scoped_resources(
    settings: Settings,
    loaded: list[tuple[Template, dict[str, Any]]],
    diagnostics: Diagnostics,
) -> list[dict[str, ResourceSettings]]:
    """Each template's ``[tool.sfn-mcp.resources]``, by logical id: a key ``"<scope>/<Id>"``
    (the scope is the template's file name without ``.template.json`` or its suffix) is that
    template's resource, over an unscoped ``<Id>``, which may match in one template only."""
    chosen: list[dict[str, ResourceSettings]] = [{} for _ in loaded]
    scopes = sorted({t.scope for t, _ in loaded})
    for key, value in settings.resources.items():
        if "/" not in key:
            continue
        scope, logical_id = key.split("/", 1)
        table = f'[tool.sfn-mcp.resources."{key}"]'
        matches = [i for i, (t, _) in enumerate(loaded) if t.scope == scope]
        if not matches:
            close = difflib.get_close_matches(scope, scopes, n=1)
            diagnostics.error(
                f"{table}: no template is named {scope!r}"
                + (f" (did you mean {close[0]!r}?)" if close else ""),
                hint="a scope is a template's file name without .template.json (or its suffix): "
                + ", ".join(scopes),
            )
        elif not any(logical_id in _resources_of(loaded[i][1]) for i in matches):
            diagnostics.error(
                f"{table}: template {scope!r} has no resource {logical_id!r}",
                hint="check the logical id in the template",
            )
        for i in matches:
            chosen[i][logical_id] = value
    for key, value in settings.resources.items():
        if "/" in key:
            continue
        matches = [
            i
            for i, (_, document) in enumerate(loaded)
            if key in _resources_of(document) and key not in chosen[i]
        ]
        if len(matches) > 1:
            names = [loaded[i][0].scope for i in matches]
            diagnostics.error(
                f"[tool.sfn-mcp.resources.{key}] matches resource {key} in {len(matches)} "
                f"templates ({', '.join(shown(loaded[i][0].path, settings) for i in matches)}), "
                "which are deployed apart: one value cannot be right for each",
                hint="scope it to one template: "
                + " and ".join(f'[tool.sfn-mcp.resources."{n}/{key}"]' for n in names),
            )
        for i, _ in enumerate(loaded):
            chosen[i].setdefault(key, value)
    return chosen


def _unique(found: list[FoundMachine], diagnostics: Diagnostics) -> list[FoundMachine]:
    named: dict[str, list[FoundMachine]] = {}
    for item in found:
        named.setdefault(item.machine.name, []).append(item)
    for name, items in named.items():
        if len(items) > 1:
            diagnostics.error(
                f"state machine name {name!r} is given by {len(items)} resources: "
                f"{'; '.join(i.where for i in items)}",
                hint="a name is unique in a region: rename one, or read one template",
            )
    return [items[0] for items in named.values() if len(items) == 1]


def _compile(
    settings: Settings,
    found: list[FoundMachine],
    schemas: Mapping[str, FoundSchema],
    diagnostics: Diagnostics,
) -> list[MachineSource]:
    by_machine = {f.machine.name: f for f in found}
    candidates = sorted((f.machine for f in found), key=lambda m: m.name)
    chosen = by_name(candidates, settings)
    note_unfiltered(settings, len(chosen), diagnostics, where="in the repository")
    if settings.tag:
        key = settings.tag[0]
        for machine in chosen:
            if key in by_machine[machine.name].unresolved_tags:
                why, _ = by_machine[machine.name].unresolved_tags[key]
                diagnostics.error(
                    f"{by_machine[machine.name].where}: state machine {machine.name!r}: the "
                    f"value of tag {key!r} is not known before deployment ({why}), so the tag "
                    "filter cannot tell whether it is selected",
                    hint="write the tag's value in the template",
                )
    selected = by_tag(
        [
            Selected(m, by_machine[m.name].tags)
            for m in chosen
            if _decidable(settings, by_machine[m.name])
        ],
        settings,
    )
    _warn_unresolved_tags(settings, [by_machine[s.machine.name] for s in selected], diagnostics)
    requests = schema_requests(selected, settings, diagnostics)
    users: dict[Request, list[str]] = {}
    for (user, _), request in requests.items():
        users.setdefault(request, []).append(user)
    fetched = {
        request: source
        for request in sorted(users, key=lambda r: (r[0].arn, r[1]))
        if (source := _lookup(request, users[request], settings, schemas, diagnostics))
    }

    def schema(machine: str, role: Role) -> SchemaSource | None:
        request = requests.get((machine, role))
        return fetched.get(request) if request else None

    machines = []
    for item in selected:
        name = item.machine.name
        this = by_machine[name]
        target = _target(settings, this, diagnostics)
        if target is None:
            continue
        machines.append(
            MachineSource(
                name=name,
                arn=item.machine.arn,
                type=item.machine.type,
                definition=this.definition,
                comment=definition_comment(this.definition),
                tags=dict(item.tags),
                schema=schema(name, "input"),
                output_schema=schema(name, "output"),
                target=target,
                target_arn=f"{item.machine.arn}:{target.partition(':')[2]}" if target else "",
                version_arn="",
            )
        )
    return machines


def _decidable(settings: Settings, found: FoundMachine) -> bool:
    return not (settings.tag and settings.tag[0] in found.unresolved_tags)


def _warn_unresolved_tags(
    settings: Settings, found: list[FoundMachine], diagnostics: Diagnostics
) -> None:
    schema_keys = {
        key: role
        for key, role in (
            (settings.schema_tag_key, "input"),
            (settings.output_schema_tag_key, "output"),
        )
        if key
    }
    for item in found:
        for key, (why, supply) in sorted(item.unresolved_tags.items()):
            role = schema_keys.get(key)
            outcome = f"the {role} stays untyped" if role else "the tag is left out"
            diagnostics.warning(
                f"{item.where} Tags: state machine {item.machine.name!r}: the value of tag "
                f"{key!r} is not known before deployment ({why}); {outcome}",
                hint=supply,
            )


def _target(settings: Settings, found: FoundMachine, diagnostics: Diagnostics) -> str | None:
    """``alias:NAME`` for a SAM ``AutoPublishAlias`` the configuration does not override, the
    configured target when it is that alias, "" for the machine as it is; None (an error) for a
    version or alias the repository cannot say the definition of."""
    name = found.machine.name
    configured = settings.workflows.get(name, WorkflowSettings()).target or settings.target
    alias = f"alias:{found.auto_publish_alias}" if found.auto_publish_alias else ""
    if configured == "latest":
        return alias
    if configured == alias:
        return alias
    diagnostics.error(
        f"{found.where}: state machine {name!r}: target {configured} is not known from the "
        "repository, which holds the definition the machine is deployed with"
        + (f" (published as {alias})" if alias else ""),
        hint="remove target (per workflow under "
        f'[tool.sfn-mcp.workflows."{name}"]), or compile from the account (source = "account")',
    )
    return None


def _lookup(
    request: Request,
    users: list[str],
    settings: Settings,
    schemas: Mapping[str, FoundSchema],
    diagnostics: Diagnostics,
) -> SchemaSource | None:
    ref, pinned = request
    tagged = f"tagged on {', '.join(users)}"
    owners = ", ".join(f'[tool.sfn-mcp.workflows."{m}"]' for m in users)
    label = f"schema {ref.registry}/{ref.name}"
    source: SchemaSource | None = None
    if ref.arn in schemas:
        found = schemas[ref.arn]
        if found.source is None:
            diagnostics.warning(
                f"{found.where}: {label} ({tagged}): its content is not known before deployment "
                f"({found.problem}); the tool is untyped",
                hint="write the schema's Content in the template (or a Fn::Sub of known values)",
            )
            return None
        source = found.source
        if found.default_version and not pinned:
            diagnostics.note(
                f"{found.where}: {label} ({tagged}) is taken as version 1, the version the "
                "registry gives a new schema",
                hint=f"if the registry holds another, set [tool.sfn-mcp.resources."
                f'{found.logical_id}] version = "N"',
            )
        where = found.where
    elif ref.arn in settings.schemas:
        kept = settings.schemas[ref.arn]
        where = f'[tool.sfn-mcp.schemas."{ref.arn}"]'
        try:
            content = read_text(kept.file, "schema file", shown(kept.file, settings))
        except CompileError as exc:
            diagnostics.error(f"{where}: {exc.problems[0]}", hint="fix the file's path")
            return None
        kind = kept.type or _schema_type(content)
        source = SchemaSource(ref, kept.version, kind, content, kept.description)
    else:
        diagnostics.warning(
            f"{label} ({tagged}) is neither in the templates nor kept as a file; the tool is "
            "untyped",
            hint=f'add it as [tool.sfn-mcp.schemas."{ref.arn}"] file = "…" and type = '
            '"JSONSchemaDraft4" (or "OpenApi3"), or define it in a template',
        )
        return None
    if pinned and pinned != source.version:
        diagnostics.error(
            f"{where}: {label} ({tagged}) is version {source.version}, but version {pinned} is "
            "pinned",
            hint=f"change schema-version in {owners}, or remove it to take the one the repository "
            "holds",
        )
        return None
    if source.type not in SUPPORTED_SCHEMA_TYPES:
        diagnostics.warning(
            f"{where}: {label} v{source.version} ({tagged}) has format {source.type!r}; sfn-mcp "
            f"reads {' and '.join(SUPPORTED_SCHEMA_TYPES)}, so the tool is untyped",
            hint="convert the schema",
        )
        return None
    return source


def _schema_type(content: str) -> str:
    """A schema file's format when the configuration does not say: OpenApi3 when it is a JSON
    object with an ``openapi`` key, else JSONSchemaDraft4."""
    try:
        document = json.loads(content)
    except ValueError:
        return "JSONSchemaDraft4"
    return (
        "OpenApi3" if isinstance(document, dict) and "openapi" in document else "JSONSchemaDraft4"
    )
