"""Review: ``sfn-mcp check``: is the committed package what ``generate`` would write now?

Two ways to ask, both read-only:

* against the account (the default): compile in memory from the configured source, exactly as
  ``generate`` would, and compare byte for byte with the committed folder. When they differ, the
  summary is the surface diff (committed ``surface.json`` → the account now: which tools differ, and
  how, breaking first) and the files that differ.
* ``--offline``: no AWS at all. The committed code is imported and its ``tools/list`` compared with
  the committed ``surface.json``, and its ``_runtime.py`` with this sfn-mcp's runtime. That catches
  hand edits and a manifest that was not regenerated with the code, in a pre-commit hook or a CI job
  without AWS credentials; it cannot see changes in the account.
* ``--against-account``: each reviewed tool's machine as deployed (type, definition hash, schema
  versions) against the committed manifest.

Each returns a ``CheckResult``: the text report (``report``) and the same findings as data
(surface changes, files that differ, problems, the hint), which ``review.render.check`` renders as
JSON, markdown or GitHub Actions workflow commands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sfn_mcp import read
from sfn_mcp.diagnostics import CompileError, Counter, Diagnostics, Progress, quiet, quiet_count
from sfn_mcp.pipeline import SharedReads, compile_package, named, read_account
from sfn_mcp.read.select import list_state_machines
from sfn_mcp.render import runtime_files
from sfn_mcp.review.compare import compare
from sfn_mcp.review.render.text import render_text
from sfn_mcp.review.surface import Change, Surface, parse_surface
from sfn_mcp.review.version import versioned_files
from sfn_mcp.settings import Settings, WorkflowSettings
from sfn_mcp.surface import (
    LISTED_KEYS,
    LISTING,
    MANIFEST,
    PackageImportError,
    committed_listing,
    listing_problems,
)
from sfn_mcp.write import read_tree, tree_changes
from sfn_mcp_runtime.contract import RUN_KEYS, RUNTIME_PACKAGE, definition_digest

FIX = "run `sfn-mcp generate`, review the changes above and commit them"


CheckKind = Literal["source", "offline", "against-account"]
FileStatus = Literal["changed", "missing", "extra"]


@dataclass(frozen=True)
class FileDifference:
    """A committed file that is not what ``generate`` writes now: ``changed``, ``missing`` (it
    would be written) or ``extra`` (it would not); ``path`` is relative to the package folder."""

    path: str
    status: FileStatus

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "status": self.status}


@dataclass(frozen=True)
class Problem:
    """A finding that is not a surface change: a tool that runs otherwise than reviewed (``tool``),
    a runtime file that differs (``file``, relative to the package folder), an error."""

    message: str
    tool: str | None = None
    file: str | None = None

    def render(self) -> str:
        return f"{self.tool}: {self.message}" if self.tool else self.message

    def as_dict(self) -> dict[str, str | None]:
        return {"tool": self.tool, "file": self.file, "message": self.message}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check: ``report`` is the text format; the other fields hold the same
    findings as data for the other formats. ``headline`` is the report's first line, ``old`` and
    ``new`` the surfaces ``changes`` compares, ``hint`` what to do (``None`` when up to date)."""

    up_to_date: bool
    report: str
    changes: list[Change] = field(default_factory=list)
    kind: CheckKind = "source"
    target: Path | None = None
    headline: str = ""
    old: Surface | None = None
    new: Surface | None = None
    files: list[FileDifference] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    hint: str | None = None
    package: str | None = None  # the id of its [tool.sfn-mcp.packages.<id>] table

    def of_package(self, package: str | None) -> CheckResult:
        """The result of one package of several: its headline (the report's first line, which
        every format shows) names the package."""
        if package is None:
            return self
        headline = f"package {package}: {self.headline}"
        report = self.report.removeprefix(self.headline)
        return replace(self, package=package, headline=headline, report=headline + report)


def _differing(committed: dict[str, bytes], fresh: dict[str, bytes]) -> list[FileDifference]:
    missing, changed, extra = tree_changes(committed, fresh)
    statuses: tuple[tuple[FileStatus, list[str]], ...] = (
        ("changed", list(changed)),
        ("missing", list(missing)),
        ("extra", list(extra)),
    )
    return [FileDifference(path, status) for status, paths in statuses for path in paths]


def _surface(text: bytes | str | None, label: str) -> Surface:
    if text is None:
        return Surface(label=label, exists=False, notes=(f"{label} has no {MANIFEST} yet",))
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CompileError(f"{label} is not valid JSON: {exc}", hint=FIX) from exc
    return parse_surface(data, label=label)


SOURCE_LABEL = {
    "account": "the account now",
    "files": "the ASL files now",
    "cloudformation": "the templates now",
}


def check_source(
    settings: Settings,
    *,
    progress: Progress = quiet,
    count: Counter = quiet_count,
    shared: SharedReads | None = None,
) -> CheckResult:
    """Compile from the configured source (the account, or the repository's files) in memory
    and compare with the committed package. ``shared``: what the run's other packages read."""
    target = settings.output / settings.name
    compiled = compile_package(settings, progress=progress, count=count, shared=shared)
    committed = read_tree(target) if target.is_dir() else {}
    versioned = versioned_files(compiled, target)
    fresh = {path: text.encode() for path, text in versioned.items()}
    tools = len(compiled.package.tools)
    if committed == fresh:
        headline = f"{target} is up to date ({tools} workflow tool(s))."
        return CheckResult(True, headline + "\n", target=target, headline=headline)
    old = _surface(committed.get(MANIFEST), f"committed {target.name}/{MANIFEST}")
    now = SOURCE_LABEL[settings.source]
    new = _surface(versioned[MANIFEST], now)
    changes = compare(old, new)
    files = _differing(committed, fresh)
    headline = f"{target} is stale: {now} compile(s) to a different package."
    lines = [headline, ""]
    if changes:
        lines.append(render_text(changes, old=old, new=new).rstrip())
    else:
        lines.append("The tool surface is the same; only generated code differs.")
    lines += ["", "Files that differ:", *(f"  {f.status}: {f.path}" for f in files)]
    lines += ["", f"To fix: {FIX}."]
    return CheckResult(
        False,
        "\n".join(lines) + "\n",
        changes,
        target=target,
        headline=headline,
        old=old,
        new=new,
        files=files,
        hint=FIX,
    )


def _runtime_problems(target: Path) -> list[Problem]:
    """The package's ``_runtime/`` against this sfn-mcp's runtime, file by file."""
    shipped = {path: text.encode() for path, text in runtime_files().items()}
    committed = {  # a missing folder reads as no files
        f"{RUNTIME_PACKAGE}/{path}": data
        for path, data in read_tree(target / RUNTIME_PACKAGE).items()
    }
    missing, changed, extra = tree_changes(committed, shipped)
    why = "edited by hand, or generated by another sfn-mcp version"
    return [
        Problem(f"{target.name}/{path} {what} ({why})", file=path)
        for what, paths in (
            ("differs from this sfn-mcp's runtime", changed),
            ("is missing from the runtime", missing),
            ("is not part of this sfn-mcp's runtime", extra),
        )
        for path in paths
    ]


def _committed_surface(target: Path, flag: str) -> Surface:
    """The committed package's ``surface.json``, for a check (``flag``) that needs one."""
    manifest_path = target / MANIFEST
    if not manifest_path.is_file():
        raise CompileError(
            f"{manifest_path} does not exist",
            hint="generate the package first (sfn-mcp generate), or point --output/--name or "
            f"--config at it; {flag} checks a committed package",
        )
    return _surface(manifest_path.read_bytes(), f"{target.name}/{MANIFEST}")


def check_offline(target: Path) -> CheckResult:
    """Without AWS: the committed code against its own manifest and this sfn-mcp's runtime."""
    recorded = _committed_surface(target, "--offline")
    try:
        served = committed_listing(target)
    except PackageImportError as exc:
        problem = Problem(f"{exc} (edited by hand, or half-written?)")
        headline = f"{target}: {problem.message}."
        return CheckResult(
            False,
            f"{headline}\n\nTo fix: {FIX}.\n",
            kind="offline",
            target=target,
            headline=headline,
            problems=[problem],
            hint=FIX,
        )
    tools = {}
    problems: list[Problem] = []
    for listed in served.tools:
        name = str(listed["name"])
        entry = dict(recorded.tools.get(name, {"name": name, "stateMachine": None}))
        entry.update({key: listed.get(key) for key in LISTED_KEYS})
        tools[name] = entry
        machine = entry.get("stateMachine") or {}
        runs = served.workflows.get(name, {})
        problems += [
            Problem(
                f"tools.py says {key} {runs.get(key)!r}, {MANIFEST} says {machine.get(key)!r}",
                tool=name,
                file="tools.py",
            )
            for key in RUN_KEYS
            if runs and machine.get(key) != runs.get(key)
        ]
    code = Surface(
        label=f"the code in {target.name}/",
        tools=tools,
        server=recorded.server,
        package=recorded.package,
    )
    changes = compare(recorded, code)
    problems += [Problem(text, file=LISTING) for text in listing_problems(target, served)]
    problems += _runtime_problems(target)
    if not changes and not problems:
        count = len(served.workflows)
        headline = f"{target}: the code matches its {MANIFEST} ({count} workflow tool(s))."
        return CheckResult(True, headline + "\n", kind="offline", target=target, headline=headline)
    headline = f"{target}: the code does not match its {MANIFEST}."
    hint = f"{FIX}; never edit the generated files"
    lines = [headline, ""]
    if changes:
        lines.append(render_text(changes, old=recorded, new=code).rstrip())
    lines += [f"- {problem.render()}" for problem in problems]
    lines += ["", f"To fix: {hint}."]
    return CheckResult(
        False,
        "\n".join(lines) + "\n",
        changes,
        kind="offline",
        target=target,
        headline=headline,
        old=recorded,
        new=code,
        problems=problems,
        hint=hint,
    )


def _reviewed_source(entry: Mapping[str, Any] | None) -> str:
    if not entry:
        return "none"
    if "arn" in entry:
        return f"{entry['arn']} version {entry.get('version')}"
    return (
        "inferred from the definition" if "inferredFrom" in entry else f"file {entry.get('file')}"
    )


def _deployed_source(schema: read.SchemaSource | None, reviewed: Mapping[str, Any] | None) -> str:
    if schema is None:
        # an inferred or file schema has no counterpart in the account: nothing to compare
        return _reviewed_source(reviewed) if reviewed and "arn" not in reviewed else "none"
    if schema.ref.registry == read.records.INFERRED or schema.ref.arn.startswith("file:"):
        return _reviewed_source(reviewed)
    return f"{schema.ref.arn} version {schema.version}"


def _drift(tool: Mapping[str, Any], machine: read.MachineSource) -> list[str]:
    """What differs between a reviewed tool and its machine as deployed."""
    reviewed = tool["stateMachine"]
    found = []
    if machine.type != reviewed.get("type"):
        found.append(f"type is {machine.type}, reviewed {reviewed.get('type')}")
    if definition_digest(machine.definition) != reviewed.get("definitionSha256"):
        where = reviewed.get("targetArn") or reviewed.get("arn")
        found.append(f"the definition {where} runs is not the reviewed one")
    for role, key, schema in (
        ("input", "inputSchemaSource", machine.schema),
        ("output", "outputSchemaSource", machine.output_schema),
    ):
        before, after = _reviewed_source(tool.get(key)), _deployed_source(schema, tool.get(key))
        if before != after:
            found.append(f"{role} schema is {after}, reviewed {before}")
    return found


def check_deployed(
    settings: Settings,
    *,
    progress: Progress = quiet,
    count: Counter = quiet_count,
    shared: SharedReads | None = None,
) -> CheckResult:
    """The committed package against what is deployed: for each workflow tool, its machine's
    type, the definition its target runs (by hash) and its schemas' ARN and version, read from
    the account whatever the configured source. ``shared``: the sessions of the run's other
    packages (each account/region listed once)."""
    progress = named(progress, settings)
    target = settings.output / settings.name
    recorded = _committed_surface(target, "--against-account")
    tools = {
        name: tool
        for name, tool in sorted(recorded.tools.items())
        if isinstance(tool.get("stateMachine"), dict) and tool["stateMachine"].get("name")
    }
    by_machine = {str(tool["stateMachine"]["name"]): name for name, tool in tools.items()}
    # What the reviewed tools ran, whatever the configuration says now.
    targets = {
        machine: str(tools[name]["stateMachine"].get("target") or "latest")
        for machine, name in by_machine.items()
    }
    account = replace(
        settings,
        source="account",
        prefix="",
        tag=None,
        state_machines=(),
        workflows={
            m: replace(settings.workflows.get(m, WorkflowSettings()), target=target)
            for m, target in targets.items()
        },
    )
    aws = shared.aws(account) if shared is not None else read.Aws(account)
    progress(f"Reading the {len(tools)} reviewed workflow(s) from {aws.region} ...")
    listed = {c.name for c in list_state_machines(aws)}
    present = tuple(sorted(m for m in by_machine if m in listed))
    diagnostics = Diagnostics()
    machines = (
        read_account(replace(account, state_machines=present), diagnostics, aws, count=count)
        if present
        else []
    )
    deployed = {m.name: m for m in machines}
    drifted: list[Problem] = []
    for machine, name in sorted(by_machine.items(), key=lambda item: item[1]):
        if machine not in listed:
            drifted.append(Problem(f"state machine {machine!r} is not deployed", tool=name))
        elif machine not in deployed:
            drifted.append(
                Problem(f"state machine {machine!r} could not be read (see above)", tool=name)
            )
        else:
            drifted += [Problem(what, tool=name) for what in _drift(tools[name], deployed[machine])]
    errors = [Problem(d.render()) for d in diagnostics if d.level == "error"]
    if not drifted:
        headline = (
            f"{target}: every reviewed workflow runs as reviewed in {aws.region} "
            f"({len(tools)} workflow tool(s))."
        )
        return CheckResult(
            True, headline + "\n", kind="against-account", target=target, headline=headline
        )
    headline = f"{target}: what is deployed in {aws.region} differs from the reviewed package:"
    hint = (
        "deploy what was reviewed, or regenerate from the account (source = account) "
        "or from the repository and review the change"
    )
    lines = [headline, *(f"  {problem.render()}" for problem in drifted)]
    if errors:
        lines += ["", *(problem.render() for problem in errors)]
    lines += ["", f"To fix: {hint}."]
    return CheckResult(
        False,
        "\n".join(lines) + "\n",
        kind="against-account",
        target=target,
        headline=headline,
        problems=drifted + errors,
        hint=hint,
    )
