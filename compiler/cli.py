"""The ``sfn-mcp`` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import load_settings
from .configure import configure
from .errors import CompileError
from .pipeline import compile_package
from .write import write_package

GENERATE_EXAMPLE = """
\b
Examples:
  # the settings in ./pyproject.toml [tool.sfn-mcp]
  sfn-mcp generate
  # every machine named ai-workflows-*, schemas from the tag input-schema-arn
  sfn-mcp generate --prefix ai-workflows- --schema-tag-key input-schema-arn \\
      --name ai_workflows -o generated
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sfn-mcp")
def main() -> None:
    """Compile AWS Step Functions workflows into a committed, typed MCP server."""


@main.command(epilog=GENERATE_EXAMPLE)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with the settings (default: ./pyproject.toml [tool.sfn-mcp]).",
)
@click.option(
    "--prefix",
    help="Select machines whose name starts with this; it is stripped "
    "from tool names. [env: STATE_MACHINE_PREFIX]",
)
@click.option(
    "--state-machine",
    "state_machines",
    multiple=True,
    metavar="NAME",
    help="Select this machine by exact name (repeatable). [env: STATE_MACHINE_LIST]",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Keep only machines with this tag (one filter). "
    "[env: STATE_MACHINE_TAG_KEY + STATE_MACHINE_TAG_VALUE]",
)
@click.option(
    "--schema-tag-key",
    metavar="KEY",
    help="Tag whose value is the input schema's ARN. [env: STATE_MACHINE_INPUT_SCHEMA_ARN_TAG_KEY]",
)
@click.option(
    "--output-schema-tag-key",
    metavar="KEY",
    help="Tag whose value is the ARN of the schema that types the workflow's output.",
)
@click.option("--name", help="Python package name of the server (default: from the prefix).")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder the package is written into (default: the current folder).",
)
@click.option("--region", help="AWS region (default: AWS_REGION, then boto3's own resolution).")
@click.option("--profile", help="AWS named profile (default: AWS_PROFILE).")
@click.option(
    "--max-wait-seconds",
    type=click.FloatRange(min=0, min_open=True),
    help="How long STANDARD tools wait for a result before returning RUNNING (default 50).",
)
def generate(**options: Any) -> None:
    """Generate the MCP server package from the selected state machines."""
    cli = {
        key.replace("_", "-"): value
        for key, value in options.items()
        if key != "config_path" and value not in (None, ())
    }
    if "state-machines" in cli:
        cli["state-machines"] = list(cli["state-machines"])
    tags = cli.pop("tags", ())
    if len(tags) > 1:
        click.echo(
            f"error: one --tag filter at a time (got {len(tags)}: {', '.join(tags)})\n"
            "hint: select by one tag, and narrow further with --prefix or --state-machine",
            err=True,
        )
        sys.exit(1)
    if tags:
        cli["tag"] = tags[0]
    try:
        settings = load_settings(cli, config_path=options["config_path"])
        for note in settings.notes:
            click.echo(f"note: {note}", err=True)
        compiled = compile_package(settings)
        report = write_package(compiled.files, settings.output, settings.name)
    except CompileError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(1)
    except Exception as exc:  # a bug of ours: one line, and how to get the details
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: rerun with SFN_MCP_DEBUG=1 for the traceback and report it", err=True)
        if os.environ.get("SFN_MCP_DEBUG"):
            raise
        sys.exit(2)
    for warning in compiled.warnings:
        click.echo(f"warning: {warning}", err=True)
    width = max(len(tool.name) for tool in compiled.package.tools)
    for tool in compiled.package.tools:
        click.echo(
            f"  {tool.name:<{width}}  {tool.workflow_type:<8}  {tool.input_summary}", err=True
        )
    changes = (
        f"{len(report.changed)} changed, {len(report.added)} added, {len(report.removed)} removed"
    )
    click.echo(
        f"Wrote {len(compiled.package.tools)} tool(s) to {report.target} ({changes})", err=True
    )
    for label, paths in (
        ("changed", report.changed),
        ("added", report.added),
        ("removed", report.removed),
    ):
        for path in paths[:20]:
            click.echo(f"  {label}: {path}", err=True)
        if len(paths) > 20:
            click.echo(f"  … and {len(paths) - 20} more {label}", err=True)


main.add_command(configure)
