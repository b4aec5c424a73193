"""``sfn-mcp generate``: compile the selected workflows and write the package."""

from __future__ import annotations

from typing import Any

import click

from sfn_mcp.cli import report
from sfn_mcp.cli.options import settings_from, source_options
from sfn_mcp.diagnostics import Diagnostic
from sfn_mcp.pipeline import compile_package
from sfn_mcp.review.version import versioned_files
from sfn_mcp.write import check_target, write_package

GENERATE_EXAMPLE = """
\b
Examples:
  # the settings in ./pyproject.toml [tool.sfn-mcp]
  sfn-mcp generate
  # every machine named ai-workflows-*, schemas from the tag input-schema-arn
  sfn-mcp generate --prefix ai-workflows- --schema-tag-key input-schema-arn \\
      --name ai_workflows -o generated
"""
LISTED = 20  # changed/added/removed files listed by name, per kind


@click.command(epilog=GENERATE_EXAMPLE)
@source_options
def generate(**options: Any) -> None:
    """Generate the MCP server package from the selected state machines."""
    with report.reported(exit_code=1):
        settings = settings_from(options)
        check_target(settings.output / settings.name)  # before any AWS call
        compiled = compile_package(settings, progress=report.progress, count=report.count)
        files = versioned_files(compiled, settings.output / settings.name)
        written = write_package(files, settings.output, settings.name)
    report.diagnostics(compiled.diagnostics)
    report.diagnostics(Diagnostic("note", done) for done in written.recovered)
    tools = compiled.package.tools
    width = max((len(tool.name) for tool in tools), default=0)
    for tool in tools:
        line = f"  {tool.name:<{width}}  {tool.workflow_type:<8}  {tool.input_summary}"
        click.echo(line, err=True)
    click.echo(report.summary(tools, compiled.diagnostics), err=True)
    if not (written.changed or written.added or written.removed):
        click.echo(
            f"{written.target} is already up to date ({len(tools)} tool(s)); nothing written",
            err=True,
        )
        return
    changes = (
        f"{len(written.changed)} changed, {len(written.added)} added, "
        f"{len(written.removed)} removed"
    )
    click.echo(f"Wrote {len(tools)} tool(s) to {written.target} ({changes})", err=True)
    for label, paths in (
        ("changed", written.changed),
        ("added", written.added),
        ("removed", written.removed),
    ):
        for path in paths[:LISTED]:
            click.echo(f"  {label}: {path}", err=True)
        if len(paths) > LISTED:
            click.echo(f"  … and {len(paths) - LISTED} more {label}", err=True)
