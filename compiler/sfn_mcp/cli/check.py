"""``sfn-mcp check``: is the committed package what ``generate`` would write now?"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from sfn_mcp.cli import report
from sfn_mcp.cli.options import packages_from, selects, several, source_options
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.pipeline import SharedReads
from sfn_mcp.review.check import CheckResult, check_deployed, check_offline, check_source
from sfn_mcp.review.render.check import CHECK_JSON_FORMAT, CHECK_RENDERERS, github_error
from sfn_mcp.settings import Settings
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
  # with [tool.sfn-mcp.packages.<id>] tables: every package, or some
  sfn-mcp check --package payments --package billing
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
    github = output_format == "github"
    with report.reported(exit_code=2), github_error(github, click.echo):
        packages = packages_from(options)
        settings = packages[0]
        if settings.config_file is None and not selects(options):
            raise missing_config(Path.cwd())
        if offline and against_account:
            raise CompileError(
                "--offline and --against-account exclude each other",
                hint="--offline reads no AWS; --against-account reads the account",
            )
        if not several(packages):
            result = _check(settings, offline, against_account, None)
    if not several(packages):
        click.echo(CHECK_RENDERERS[output_format](result, root=Path.cwd()), nl=False)
        sys.exit(0 if result.up_to_date else 1)
    with report.reported(exit_code=2):
        shared = SharedReads()
        results: list[CheckResult] = []
        failed: dict[str, CompileError] = {}
        for settings in packages:
            package = str(settings.package)
            try:
                with github_error(github, click.echo):
                    results.append(_check(settings, offline, against_account, shared))
            except CompileError as exc:
                report.failure(exc, package)
                failed[package] = exc
        click.echo(_render(output_format, results, failed), nl=False)
    stale = [r.package for r in results if not r.up_to_date]
    click.echo(
        f"{len(packages)} package(s) checked: {len(results) - len(stale)} up to date"
        + (f", stale: {', '.join(str(p) for p in stale)}" if stale else "")
        + (f", errors: {', '.join(failed)}" if failed else ""),
        err=True,
    )
    sys.exit(2 if failed else 1 if stale else 0)


def _check(
    settings: Settings, offline: bool, against_account: bool, shared: SharedReads | None
) -> CheckResult:
    if offline:
        result = check_offline(settings.folder)
    elif against_account:
        result = check_deployed(
            settings, progress=report.progress, count=report.count, shared=shared
        )
    else:
        result = check_source(settings, progress=report.progress, count=report.count, shared=shared)
    return result.of_package(settings.package)


def _render(output_format: str, results: list[CheckResult], failed: dict[str, CompileError]) -> str:
    """Several packages' results in one output: each package's as the format renders one (its
    headline names the package), one after the other; JSON is one document that lists them."""
    root = Path.cwd()
    if output_format != "json":
        return "\n".join(CHECK_RENDERERS[output_format](r, root=root) for r in results)
    documents = [
        {"package": r.package, **json.loads(CHECK_RENDERERS["json"](r, root=root))} for r in results
    ]
    documents += [
        {"package": package, "error": exc.render()} for package, exc in sorted(failed.items())
    ]
    whole = {
        "checkFormat": CHECK_JSON_FORMAT,
        "upToDate": not failed and all(r.up_to_date for r in results),
        "packages": documents,
    }
    return json.dumps(whole, indent=2, ensure_ascii=False) + "\n"
