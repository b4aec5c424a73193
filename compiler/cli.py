"""The ``sfn-mcp`` command line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .check import check_account, check_offline
from .config import Settings, load_settings
from .configure import configure
from .diff import diff
from .errors import CompileError, reported
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


def source_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that say which workflows to compile and how: shared by generate and check."""
    for option in reversed(SOURCE_OPTIONS):
        command = option(command)
    return command


SOURCE_OPTIONS = [
    click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="TOML file with the settings (default: ./pyproject.toml [tool.sfn-mcp]).",
    ),
    click.option(
        "--prefix",
        help="Select machines whose name starts with this; it is stripped "
        "from tool names. [env: STATE_MACHINE_PREFIX]",
    ),
    click.option(
        "--state-machine",
        "state_machines",
        multiple=True,
        metavar="NAME",
        help="Select this machine by exact name (repeatable). [env: STATE_MACHINE_LIST]",
    ),
    click.option(
        "--tag",
        "tags",
        multiple=True,
        metavar="KEY=VALUE",
        help="Keep only machines with this tag (one filter). "
        "[env: STATE_MACHINE_TAG_KEY + STATE_MACHINE_TAG_VALUE]",
    ),
    click.option(
        "--schema-tag-key",
        metavar="KEY",
        help="Tag whose value is the input schema's ARN. "
        "[env: STATE_MACHINE_INPUT_SCHEMA_ARN_TAG_KEY]",
    ),
    click.option(
        "--output-schema-tag-key",
        metavar="KEY",
        help="Tag whose value is the ARN of the schema that types the workflow's output.",
    ),
    click.option("--name", help="Python package name of the server (default: from the prefix)."),
    click.option(
        "-o",
        "--output",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder the package is written into (default: the current folder).",
    ),
    click.option("--region", help="AWS region (default: AWS_REGION, then boto3's own resolution)."),
    click.option("--profile", help="AWS named profile (default: AWS_PROFILE)."),
    click.option(
        "--max-wait-seconds",
        type=click.FloatRange(min=0, min_open=True),
        help="How long STANDARD tools wait for a result before returning RUNNING (default 50).",
    ),
]


def _settings(options: dict[str, Any]) -> Settings:
    """Settings from the flags actually given (over the file, over the anchor's variables)."""
    cli = {
        key.replace("_", "-"): value
        for key, value in options.items()
        if key not in ("config_path", "offline") and value not in (None, ())
    }
    if "state-machines" in cli:
        cli["state-machines"] = list(cli["state-machines"])
    tags = cli.pop("tags", ())
    if len(tags) > 1:
        raise CompileError(
            f"one --tag filter at a time (got {len(tags)}: {', '.join(tags)})",
            hint="select by one tag, and narrow further with --prefix or --state-machine",
        )
    if tags:
        cli["tag"] = tags[0]
    settings = load_settings(cli, config_path=options["config_path"])
    for note in settings.notes:
        click.echo(f"note: {note}", err=True)
    return settings


@main.command(epilog=GENERATE_EXAMPLE)
@source_options
def generate(**options: Any) -> None:
    """Generate the MCP server package from the selected state machines."""
    with reported(exit_code=1):
        settings = _settings(options)
        compiled = compile_package(settings)
        report = write_package(compiled.files, settings.output, settings.name)
    for warning in compiled.warnings:
        click.echo(f"warning: {warning}", err=True)
    width = max(len(tool.name) for tool in compiled.package.tools)
    for tool in compiled.package.tools:
        click.echo(
            f"  {tool.name:<{width}}  {tool.workflow_type:<8}  {tool.input_summary}", err=True
        )
    count = len(compiled.package.tools)
    if not (report.changed or report.added or report.removed):
        click.echo(
            f"{report.target} is already up to date ({count} tool(s)); nothing written", err=True
        )
        return
    changes = (
        f"{len(report.changed)} changed, {len(report.added)} added, {len(report.removed)} removed"
    )
    click.echo(f"Wrote {count} tool(s) to {report.target} ({changes})", err=True)
    for label, paths in (
        ("changed", report.changed),
        ("added", report.added),
        ("removed", report.removed),
    ):
        for path in paths[:20]:
            click.echo(f"  {label}: {path}", err=True)
        if len(paths) > 20:
            click.echo(f"  … and {len(paths) - 20} more {label}", err=True)


CHECK_EXAMPLE = """
\b
Examples:
  # CI: is generated/ what the account compiles to now? (needs AWS credentials)
  sfn-mcp check
  # pre-commit: does the committed code still match its surface.json? (no AWS)
  sfn-mcp check --offline
"""


@main.command(epilog=CHECK_EXAMPLE)
@source_options
@click.option(
    "--offline",
    is_flag=True,
    help="No AWS: check the committed code against its own surface.json and this sfn-mcp's "
    "runtime (catches hand edits; cannot see changes in the account).",
)
def check(**options: Any) -> None:
    """Exit 0 when the committed package is what `generate` would write now, 1 when it is stale
    (and say which tools differ, and how), 2 on errors. Writes nothing."""
    with reported(exit_code=2):
        settings = _settings(options)
        target = settings.output / settings.name
        result = check_offline(target) if options["offline"] else check_account(settings)
    click.echo(result.report, nl=False)
    sys.exit(0 if result.up_to_date else 1)


main.add_command(configure)
main.add_command(diff)
