"""The whole compile in memory: select → pull → IR (with models) → render. Writing is separate."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import botocore.exceptions

from . import ir
from .aws import Aws, describe_error, error_hint, fatal_environment_error
from .config import Settings
from .errors import CompileError
from .pull import pull
from .render import render
from .select import select


@dataclass(frozen=True)
class Compiled:
    package: ir.Package
    files: dict[str, str]
    warnings: list[str]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def compile_package(settings: Settings, aws: Aws | None = None) -> Compiled:
    """Compile in memory; every AWS failure comes out as a CompileError, never a traceback."""
    try:
        return _compile(settings, aws or Aws(settings))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        fatal = fatal_environment_error(exc)
        if fatal:
            raise fatal from exc
        operation = getattr(exc, "operation_name", None) or "an AWS call"
        raise CompileError(
            f"{operation} failed: {describe_error(exc)}", hint=error_hint(exc)
        ) from exc


def _compile(settings: Settings, aws: Aws) -> Compiled:
    started = time.monotonic()
    endpoint = aws.client("stepfunctions").meta.endpoint_url
    where = aws.region if ".amazonaws.com" in endpoint else f"{aws.region} at {endpoint}"
    progress(f"Listing state machines in {where} ...")
    selected = select(aws, settings)
    if not selected:
        raise CompileError(
            f"no state machine in {aws.region} matches {settings.selection_summary()}",
            hint="check --prefix / --state-machine / --tag and the region (--region, AWS_REGION)",
        )
    progress(f"Selected {len(selected)} state machine(s): {settings.selection_summary()}")
    machines = pull(aws, settings, selected)
    schemas = {s.ref.arn for m in machines for s in (m.schema, m.output_schema) if s}
    progress(f"Pulled {len(machines)} definition(s) and {len(schemas)} schema(s)")
    package, warnings = ir.build(settings, machines)
    files = render(package)
    progress(f"Rendered {len(files)} files in {time.monotonic() - started:.1f} s")
    return Compiled(package=package, files=files, warnings=warnings)
