"""``sfn-mcp generate``: compile the selected workflows and write the package (or, with
``[tool.sfn-mcp.packages.<id>]`` tables, each package)."""

from __future__ import annotations

import sys
from typing import Any

import click

from sfn_mcp.cli import report
from sfn_mcp.cli.options import packages_from, several, source_options
from sfn_mcp.diagnostics import CompileError, Diagnostic
from sfn_mcp.pipeline import Compiled, SharedReads, compile_package
from sfn_mcp.review.version import versioned_files
from sfn_mcp.settings import Settings
from sfn_mcp.write import WriteReport, check_target, write_package

GENERATE_EXAMPLE = """
\b
Examples:
  # the settings in ./pyproject.toml [tool.sfn-mcp] (every package of its packages tables)
  sfn-mcp generate
  # every machine named ai-workflows-*, schemas from the tag input-schema-arn
  sfn-mcp generate --prefix ai-workflows- --schema-tag-key input-schema-arn \\
      --name ai_workflows -o generated
  # one package of [tool.sfn-mcp.packages.payments]
  sfn-mcp generate --package payments
"""
LISTED = 20  # changed/added/removed files listed by name, per kind


@click.command(epilog=GENERATE_EXAMPLE)
@source_options
def generate(**options: Any) -> None:
    """Generate the MCP server package from the selected state machines."""
    with report.reported(exit_code=1):
        packages = packages_from(options)
        if not several(packages):
            settings = packages[0]
            check_target(settings.folder)  # before any AWS call
            compiled = compile_package(settings, progress=report.progress, count=report.count)
            written = _write(settings, compiled)
    if not several(packages):
        _report(compiled, written, None)
        return
    with report.reported(exit_code=1):
        failed = _generate_each(packages)
    done = len(packages) - len(failed)
    click.echo(
        f"{done} of {len(packages)} package(s) generated"
        + (f"; failed: {', '.join(failed)} (nothing of theirs written)" if failed else ""),
        err=True,
    )
    if failed:
        sys.exit(1)


def _generate_each(packages: list[Settings]) -> list[str]:
    """Each package compiled and written on its own (the read shared), in order: a failing one is
    reported and leaves its folder as it was; the others are written whole. The failed ids."""
    failed = []
    shared = SharedReads()
    selected: set[str] = set()
    for settings in packages:
        package = settings.package
        try:
            check_target(settings.folder)
            compiled = compile_package(
                settings, progress=report.progress, count=report.count, shared=shared
            )
            written = _write(settings, compiled)
        except CompileError as exc:
            report.failure(exc, package)
            failed.append(str(package))
            continue
        _report(compiled, written, package)
        selected |= {tool.machine_name for tool in compiled.package.tools}
    unused = sorted(set.intersection(*(set(s.shared_workflows) for s in packages)) - selected)
    if unused and not failed:
        report.diagnostics(
            [
                Diagnostic(
                    "warning",
                    f"[tool.sfn-mcp.workflows] names {', '.join(repr(n) for n in unused)}, "
                    f"which none of the packages {', '.join(str(s.package) for s in packages)} "
                    "selects",
                    "check the machine's name (exact, case-sensitive) and the packages' selections",
                )
            ]
        )
    return failed


def _write(settings: Settings, compiled: Compiled) -> WriteReport:
    files = versioned_files(compiled, settings.folder)
    return write_package(files, settings.output, settings.name)


def _report(compiled: Compiled, written: WriteReport, package: str | None) -> None:
    def say(line: str) -> None:
        click.echo(report.prefixed(line, package), err=True)

    report.diagnostics(compiled.diagnostics, package)
    report.diagnostics((Diagnostic("note", done) for done in written.recovered), package)
    tools = compiled.package.tools
    width = max((len(tool.name) for tool in tools), default=0)
    for tool in tools:
        say(f"  {tool.name:<{width}}  {tool.workflow_type:<8}  {tool.input_summary}")
    say(report.summary(tools, compiled.diagnostics))
    if not (written.changed or written.added or written.removed):
        say(f"{written.target} is already up to date ({len(tools)} tool(s)); nothing written")
        return
    changes = (
        f"{len(written.changed)} changed, {len(written.added)} added, "
        f"{len(written.removed)} removed"
    )
    say(f"Wrote {len(tools)} tool(s) to {written.target} ({changes})")
    for label, paths in (
        ("changed", written.changed),
        ("added", written.added),
        ("removed", written.removed),
    ):
        for path in paths[:LISTED]:
            say(f"  {label}: {path}")
        if len(paths) > LISTED:
            say(f"  … and {len(paths) - LISTED} more {label}")
