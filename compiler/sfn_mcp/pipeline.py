"""The whole compile in memory, in stage order; writing the result is the caller's last step.

    settings → read (select, pull) → models → IR → render → surface → write

Each stage lives in the folder of its name and imports only from stages before it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import botocore.exceptions

from sfn_mcp import ir, models, read, render, surface
from sfn_mcp.diagnostics import (
    CompileError,
    Counter,
    Diagnostic,
    Progress,
    quiet,
    quiet_count,
)
from sfn_mcp.read.aws import describe_error, error_hint, fatal_environment_error
from sfn_mcp.settings import Settings


@dataclass(frozen=True)
class Compiled:
    package: ir.Package
    files: dict[str, str]  # path in the package → text, surface.json included
    diagnostics: list[Diagnostic]  # warnings and notes of the run (errors raise CompileError)


def compile_package(
    settings: Settings,
    aws: read.Aws | None = None,
    *,
    progress: Progress = quiet,
    count: Counter = quiet_count,
) -> Compiled:
    """Read the account, then compile in memory; AWS failures come out as CompileErrors."""
    started = time.monotonic()
    machines = read_account(settings, aws, progress=progress, count=count)
    compiled = compile_records(settings, machines)
    progress(f"Rendered {len(compiled.files)} files in {time.monotonic() - started:.1f} s")
    return compiled


def read_account(
    settings: Settings,
    aws: read.Aws | None = None,
    *,
    progress: Progress = quiet,
    count: Counter = quiet_count,
) -> list[read.MachineSource]:
    """The read stage against an account: every AWS failure is a CompileError, never a
    traceback."""
    try:
        return _read(settings, aws or read.Aws(settings), progress, count)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        fatal = fatal_environment_error(exc)
        if fatal:
            raise fatal from exc
        operation = getattr(exc, "operation_name", None) or "an AWS call"
        raise CompileError(
            f"{operation} failed: {describe_error(exc)}", hint=error_hint(exc)
        ) from exc


def _read(
    settings: Settings, aws: read.Aws, progress: Progress, count: Counter
) -> list[read.MachineSource]:
    endpoint = aws.client("stepfunctions").meta.endpoint_url
    where = aws.region if ".amazonaws.com" in endpoint else f"{aws.region} at {endpoint}"
    progress(f"Listing state machines in {where} ...")
    selected = read.select(aws, settings, count=count)
    if not selected:
        raise CompileError(
            f"no state machine in {aws.region} matches {settings.selection_summary()}",
            hint="check --prefix / --state-machine / --tag and the region (--region, AWS_REGION)",
        )
    progress(f"Selected {len(selected)} state machine(s): {settings.selection_summary()}")
    machines = read.pull(aws, settings, selected, count=count)
    schemas = {s.ref.arn for m in machines for s in (m.schema, m.output_schema) if s}
    progress(f"Pulled {len(machines)} definition(s) and {len(schemas)} schema(s)")
    return machines


def compile_records(settings: Settings, machines: list[read.MachineSource]) -> Compiled:
    """The stages after read, from its records: no AWS involved."""
    generated = models.generate_models(machines)
    package, diagnostics = ir.build(settings, machines, generated)
    files = render.render(package)
    files[surface.MANIFEST] = surface.manifest(package, files)
    return Compiled(package=package, files=files, diagnostics=diagnostics)
