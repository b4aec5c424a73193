"""``sfn-mcp check``: is the committed package what ``generate`` would write now?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from sfn_mcp.cli import report
from sfn_mcp.cli.options import selects, settings_from, source_options
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.check import check_deployed, check_offline, check_source
from sfn_mcp.review.render.check import CHECK_RENDERERS, github_error
from sfn_mcp.settings.load import missing_config

CHECK_EXAMPLE = """
\b
Examples:
  # CI: is generated/ what the source compiles to now? (the account: needs AWS credentials;
  # source = files or cloudformation: no AWS at all)
  sfn-mcp check
  # pre-commit: does the committed code still match its surface.json? (no AWS)
  sfn-mcp check --offline
  # after deploying: does the account run what was reviewed? (needs AWS credentials)
  sfn-mcp check --against-account
  # a GitHub Actions job: an annotation per change, or a JSON report for a script
  sfn-mcp check --format github
  sfn-mcp check --offline --format json
"""


@click.command(epilog=CHECK_EXAMPLE)
@source_options
@click.option(
    "--offline",
    is_flag=True,
    help="No AWS: check the committed code against its own surface.json and this sfn-mcp's "
    "runtime (catches hand edits; cannot see changes in the account).",
)
@click.option(
    "--against-account",
    is_flag=True,
    help="Compare the committed package with what is deployed: each tool's definition (by "
    "hash, through its target) and schema versions, read from the account.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(CHECK_RENDERERS)),
    default="text",
    show_default=True,
    help="text for a terminal, json for tools (fields in the README), markdown for a "
    "pull-request comment or job summary, github for GitHub Actions annotations.",
)
def check(offline: bool, against_account: bool, output_format: str, **options: Any) -> None:
    """Exit 0 when the committed package is what `generate` would write now, 1 when it is stale
    (and say which tools differ, and how), 2 on errors. Writes nothing."""
    with report.reported(exit_code=2), github_error(output_format == "github", click.echo):
        settings = settings_from(options)
        if settings.config_file is None and not selects(options):
            raise missing_config(Path.cwd())
        target = settings.output / settings.name
        if offline and against_account:
            raise CompileError(
                "--offline and --against-account exclude each other",
                hint="--offline reads no AWS; --against-account reads the account",
            )
        if offline:
            result = check_offline(target)
        elif against_account:
            result = check_deployed(settings, progress=report.progress, count=report.count)
        else:
            result = check_source(settings, progress=report.progress, count=report.count)
    click.echo(CHECK_RENDERERS[output_format](result, root=Path.cwd()), nl=False)
    sys.exit(0 if result.up_to_date else 1)
