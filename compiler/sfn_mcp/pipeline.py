"""The whole compile in memory, in stage order; writing the result is the caller's last step.

    settings → read (select, pull; or the repository) → infer → models → IR → render → surface
    → write

Each stage lives in the folder of its name and imports only from stages before it. The compile
cache (``sfn_mcp.cache``) spares the expensive steps of an unchanged input: models, formatting
and ``surface.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
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
from sfn_mcp.read.repository import read_repository, shown
from sfn_mcp.render.policy import POLICY_FILE, policy_file
from sfn_mcp.settings import Settings


@dataclass(frozen=True)
class Compiled:
    package: ir.Package
    files: dict[str, str]  # path in the package → text, surface.json included
    diagnostics: list[Diagnostic]  # the run's warnings and notes (errors raise CompileError)


def compile_package(
    settings: Settings,
    aws: read.Aws | None = None,
    *,
    progress: Progress = quiet,
    count: Counter = quiet_count,
) -> Compiled:
    """Read the source (the account, or the repository's files), then compile in memory. Every
    problem of the run is collected; errors (and, with ``strict``, warnings) raise one
    CompileError that names them all."""
    started = time.monotonic()
    diagnostics = Diagnostics()
    if settings.source == "account":
        machines = read_account(settings, diagnostics, aws, progress=progress, count=count)
    else:
        machines = read_repository(settings, diagnostics, progress=progress)
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
