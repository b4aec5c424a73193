"""The whole compile in memory, in stage order; writing the result is the caller's last step.

    settings → read (select, pull; or the repository) → infer → models → IR → render → surface
    → write

Each stage lives in the folder of its name and imports only from stages before it. The compile
cache (``sfn_mcp.cache``) spares the expensive steps of an unchanged input: models, formatting
and ``surface.json``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import botocore.exceptions

from sfn_mcp import infer, ir, models, read, render, surface
from sfn_mcp.cache import Cache, open_cache, using
from sfn_mcp.diagnostics import (
    CompileError,
    Counter,
    Diagnostic,
    Diagnostics,
    Progress,
    quiet,
    quiet_count,
)
from sfn_mcp.read.aws import describe_error, error_hint, fatal_environment_error
from sfn_mcp.read.repository import Documents, read_repository, shown
from sfn_mcp.read.select import LISTING
from sfn_mcp.render.policy import POLICY_FILE, policy_file
from sfn_mcp.settings import Settings


@dataclass(frozen=True)
class Compiled:
    package: ir.Package
    files: dict[str, str]  # path in the package → text, surface.json included
    diagnostics: list[Diagnostic]  # the run's warnings and notes (errors raise CompileError)


@dataclass
class SharedReads:
    """What the packages of one run share, so that each place is read once: one session per
    (profile, region) of the account (its listing, descriptions, tags and schemas made once,
    ``read.Aws(shared=True)``; the endpoint follows from the profile and the environment), and
    the templates parsed so far. Each package still selects, and is diagnosed, on its own."""

    documents: Documents = field(default_factory=dict)
    sessions: dict[tuple[str | None, str | None], read.Aws] = field(default_factory=dict)

    def aws(self, settings: Settings) -> read.Aws:
        key = (settings.profile, settings.region)
        if key not in self.sessions:
            self.sessions[key] = read.Aws(settings, shared=True)
        return self.sessions[key]


def named(progress: Progress, settings: Settings) -> Progress:
    """Progress lines that name the package, when the configuration holds several."""
    if settings.package is None:
        return progress
    package = settings.package
    return lambda message: progress(f"[{package}] {message}")


@dataclass(frozen=True)
class Outcome:
    """One package of a run of several: what it compiled to, or the error that stopped it."""

    settings: Settings
    compiled: Compiled | None = None
    error: CompileError | None = None


def compile_packages(
    packages: Sequence[Settings],
    *,
    progress: Progress = quiet,
    count: Counter = quiet_count,
    shared: SharedReads | None = None,
) -> list[Outcome]:
    """Compile each package in memory, in order, reading each account/region and each template
    once for all of them (``SharedReads``). A package that fails does not stop the others."""
    shared = shared if shared is not None else SharedReads()
    outcomes = []
    for settings in packages:
        try:
            compiled = compile_package(settings, progress=progress, count=count, shared=shared)
        except CompileError as exc:
            outcomes.append(Outcome(settings, error=exc))
        else:
            outcomes.append(Outcome(settings, compiled=compiled))
    return outcomes


def compile_package(
    settings: Settings,
    aws: read.Aws | None = None,
    *,
    progress: Progress = quiet,
    count: Counter = quiet_count,
    shared: SharedReads | None = None,
) -> Compiled:
    """Read the source (the account, or the repository's files), then compile in memory. Every
    problem of the run is collected; errors (and, with ``strict``, warnings) raise one
    CompileError that names them all. ``shared``: what this run has read already (and
    reads here), for the packages of one configuration."""
    started = time.monotonic()
    progress = named(progress, settings)
    diagnostics = Diagnostics()
    if settings.source == "account":
        if aws is None and shared is not None:
            aws = shared.aws(settings)
        machines = read_account(settings, diagnostics, aws, progress=progress, count=count)
    else:
        documents = shared.documents if shared is not None else None
        machines = read_repository(settings, diagnostics, progress=progress, documents=documents)
        if not machines:
            diagnostics.raise_errors()  # machines that could not be read are not "no match"
            where = (
                ", ".join(shown(t, settings) for t in settings.templates)
                if settings.source == "cloudformation"
                else "the workflows' definition files"
            )
            raise CompileError(
                f"no state machine in {where} matches {settings.selection_summary()}",
                hint="check --prefix / --state-machine / --tag against the machines' names "
                "(and that the templates define AWS::StepFunctions::StateMachine or "
                "AWS::Serverless::StateMachine resources); nothing was written",
            )
    compiled = compile_records(settings, machines, diagnostics)
    progress(f"Rendered {len(compiled.files)} files in {time.monotonic() - started:.1f} s")
    return compiled


def read_account(
    settings: Settings,
    diagnostics: Diagnostics,
    aws: read.Aws | None = None,
    *,
    progress: Progress = quiet,
    count: Counter = quiet_count,
) -> list[read.MachineSource]:
    """The read stage against an account. AWS failures that hit every call (credentials,
    endpoint) raise a CompileError; those of one machine or schema go into ``diagnostics``."""
    try:
        return _read(settings, aws or read.Aws(settings), diagnostics, progress, count)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        fatal = fatal_environment_error(exc)
        if fatal:
            raise fatal from exc
        operation = getattr(exc, "operation_name", None) or "an AWS call"
        raise CompileError(
            f"{operation} failed: {describe_error(exc)}", hint=error_hint(exc)
        ) from exc


def _read(
    settings: Settings,
    aws: read.Aws,
    diagnostics: Diagnostics,
    progress: Progress,
    count: Counter,
) -> list[read.MachineSource]:
    endpoint = aws.client("stepfunctions").meta.endpoint_url
    where = aws.region if ".amazonaws.com" in endpoint else f"{aws.region} at {endpoint}"
    if aws.made(LISTING):
        progress(f"Using the listing of {where} read for an earlier package")
    else:
        progress(f"Listing state machines in {where} ...")
    selected = read.select(aws, settings, diagnostics, count=count)
    if not selected:
        diagnostics.raise_errors()  # machines that could not be read are not "no match"
        raise CompileError(
            f"no state machine in {aws.region} matches {settings.selection_summary()}",
            hint="check --prefix / --state-machine / --tag and the region (--region, AWS_REGION)",
        )
    progress(f"Selected {len(selected)} state machine(s): {settings.selection_summary()}")
    machines = read.pull(aws, settings, selected, diagnostics, count=count)
    schemas = {s.ref.arn for m in machines for s in (m.schema, m.output_schema) if s}
    progress(f"Pulled {len(machines)} definition(s) and {len(schemas)} schema(s)")
    return machines


def compile_records(
    settings: Settings,
    machines: list[read.MachineSource],
    diagnostics: Diagnostics | None = None,
    *,
    cache: Cache | None | bool = True,
) -> Compiled:
    """The stages after read, from its records: no AWS involved. ``cache``: True for the
    configured compile cache (``sfn_mcp.cache``: beside the configuration file, off with
    ``SFN_MCP_NO_CACHE=1``), False for none, or a Cache; it never changes the output."""
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    store = open_cache(settings.config_file) if cache is True else (cache or None)
    with using(store):
        if settings.shared_workflows:  # the top-level table's, for the packages that select
            selected = {m.name for m in machines}
            workflows = {
                name: w
                for name, w in settings.workflows.items()
                if name in selected or name not in settings.shared_workflows
            }
            settings = replace(settings, workflows=workflows)
        machines = infer.apply_inference(settings, machines, diagnostics)
        generated = models.generate_models(
            machines, diagnostics, store, profile=settings.client_profile
        )
        previous = surface.previous_names(settings.output / settings.name / surface.MANIFEST)
        package = ir.build(settings, machines, generated, diagnostics, previous=previous)
        diagnostics.raise_errors(strict=settings.strict)
        files = render.render(package)
        files[POLICY_FILE] = policy_file(package)
        files[surface.MANIFEST] = _manifest(package, files, store)
    return Compiled(package=package, files=files, diagnostics=list(diagnostics))


SURFACE_KIND = "surface"


def _manifest(package: ir.Package, files: dict[str, str], cache: Cache | None) -> str:
    """``surface.json`` (and whatever files the surface stage adds beside it, such as the
    listing it serves). It is read from the package itself in a child Python, so it depends on
    nothing but the package's files, the IR it joins them with and the environment (in the
    cache's salt). The IR enters the key as its repr: frozen dataclasses of plain values, every
    field shown (an IR field must not be ``repr=False``; a value whose repr varies from run to
    run, such as a set, only makes entries miss)."""
    if cache is None:
        return surface.manifest(package, files)
    key = cache.key(SURFACE_KIND, repr(package), *(f"{p}\0{t}" for p, t in sorted(files.items())))
    slot = cache.slot(SURFACE_KIND, package.name)  # one entry per package: the last one
    hit = cache.get(SURFACE_KIND, key, _surface_entry, slot=slot)
    if hit is not None:
        files.update(hit[1])
        return hit[0]
    before = dict(files)
    text = surface.manifest(package, files)
    added = {p: t for p, t in files.items() if before.get(p) != t}
    cache.put(SURFACE_KIND, key, {"manifest": text, "files": added}, slot=slot)
    return text


def _surface_entry(value: Any) -> tuple[str, dict[str, str]] | None:
    text, added = value["manifest"], value["files"]
    if not isinstance(text, str) or not isinstance(added, dict):
        return None
    if not all(isinstance(t, str) for t in added.values()):
        return None
    return text, added
