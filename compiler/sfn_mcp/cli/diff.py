"""``sfn-mcp diff``: compare two tool surfaces and classify each change.

``sfn-mcp diff OLD [NEW]``: NEW defaults to the working tree's manifest (settings
``output``/``name``/surface.json, or ``--manifest``), so ``sfn-mcp diff main`` reviews the current
checkout against main, uncommitted changes included. It exits 0 whatever it finds unless
``--fail-on breaking|any`` asks otherwise (then 1), and 2 on errors, with the usual
``error:``/``hint:`` lines and no traceback. ``sfn-mcp diff --list-rules`` prints the rules table
instead (no surfaces).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from sfn_mcp.cli import report
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.review.compare import compare
from sfn_mcp.review.load import (
    PackagePair,
    default_manifest,
    display_path,
    load_surface,
    load_working_tree,
    package_pairs,
)
from sfn_mcp.review.render import RENDERERS, summary_line
from sfn_mcp.review.render.check import DIFF_MARKER
from sfn_mcp.review.rules import RULE_RENDERERS
from sfn_mcp.review.surface import Change
from sfn_mcp.surface import MANIFEST

DIFF_EXAMPLE = """
\b
Examples:
  # main's committed surface against the working tree (uncommitted changes included)
  sfn-mcp diff main
  # the last commit
  sfn-mcp diff HEAD~1 HEAD
  # a pull-request comment; exit 1 when a change breaks callers
  sfn-mcp diff origin/main HEAD --format markdown --fail-on breaking > surface-diff.md
  # two files or package directories
  sfn-mcp diff old/surface.json generated/ai_workflows
  # the rules every change is classified by
  sfn-mcp diff --list-rules --format markdown
  # with [tool.sfn-mcp.packages.<id>] tables: one section per package, or only some
  sfn-mcp diff main --package payments
"""


@click.command("diff", epilog=DIFF_EXAMPLE)
@click.argument("old", required=False, metavar="OLD")
@click.argument("new", required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(RENDERERS)),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a pull-request comment, json for tools.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["breaking", "any", "none"]),
    default="none",
    show_default=True,
    help="Exit 1 when there is a breaking change (breaking) or any change (any).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with the settings that locate the manifest "
    "(default: ./pyproject.toml [tool.sfn-mcp]).",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The surface.json read at revisions and used when NEW is left out "
    "(default: <output>/<name>/surface.json from the settings).",
)
@click.option(
    "--package",
    "packages",
    multiple=True,
    metavar="ID",
    help="With [tool.sfn-mcp.packages.<id>] tables: only this package (repeat for several; "
    "default every package, each in a section of its own).",
)
@click.option(
    "--list-rules",
    is_flag=True,
    help="Print the rules every change is classified by (in --format) instead of comparing; "
    "takes no OLD or NEW.",
)
@click.pass_context
def diff(
    ctx: click.Context,
    old: str | None,
    new: str | None,
    output_format: str,
    fail_on: str,
    config_path: Path | None,
    manifest: Path | None,
    packages: tuple[str, ...],
    list_rules: bool,
) -> None:
    """Compare the tool surfaces OLD and NEW and classify each change as breaking or not.

    OLD and NEW are each a surface.json file, a generated package directory, or a git revision
    (branch, tag, commit, HEAD~1) at which the manifest is read; an existing path wins over a
    revision of the same name. NEW defaults to the manifest in the working tree. Exit status: 0,
    or 1 when --fail-on applies, or 2 on errors.
    """
    if list_rules:
        if old is not None:
            raise click.UsageError("--list-rules takes no OLD or NEW", ctx=ctx)
        click.echo(RULE_RENDERERS[output_format](), nl=False)
        return
    if old is None:
        param = next(p for p in ctx.command.params if p.name == "old")
        raise click.MissingParameter(ctx=ctx, param=param)
    with report.reported(exit_code=2):
        pairs = None
        revisions = not any(os.path.lexists(spec) for spec in (old, new) if spec is not None)
        if manifest is None and revisions:
            pairs = package_pairs(old, new, config_path=config_path, only=packages)
        if pairs is not None:
            text, changes = _sections(pairs, output_format)
        elif packages:
            raise CompileError(
                "--package selects among [tool.sfn-mcp.packages.<id>] tables, compared at git "
                "revisions",
                hint="leave it out for one manifest, files or folders (or --manifest)",
            )
    if pairs is not None:
        _finish(text, changes, fail_on)
        return
    with report.reported(exit_code=2):
        paths = new is not None and all(os.path.lexists(spec) for spec in (old, new))
        # two paths need no manifest location (nor settings, which may hold several packages)
        manifest_path = manifest or (Path(MANIFEST) if paths else default_manifest(config_path))
        old_surface = load_surface(old, manifest_path=manifest_path)
        if new is None:
            new_surface = load_working_tree(display_path(manifest_path))
        else:
            new_surface = load_surface(new, manifest_path=manifest_path)
        changes = compare(old_surface, new_surface)
        text = RENDERERS[output_format](changes, old=old_surface, new=new_surface)
    _finish(text, changes, fail_on)


def _finish(text: str, changes: list[Change], fail_on: str) -> None:
    click.echo(text, nl=False)
    breaking = sum(change.breaking for change in changes)
    if (fail_on == "breaking" and breaking) or (fail_on == "any" and changes):
        what = f"{breaking} breaking change(s)" if fail_on == "breaking" else summary_line(changes)
        click.echo(f"error: {what} (--fail-on {fail_on})", err=True)
        sys.exit(1)


STATUS = {
    "added": "added (not configured at the old revision)",
    "removed": "removed (no longer configured)",
    "both": "",
}


def _sections(pairs: list[PackagePair], output_format: str) -> tuple[str, list[Change]]:
    """One section per package, in the format asked; JSON is one document listing them."""
    every: list[Change] = []
    parts = []
    documents = []
    for pair in pairs:
        changes = compare(pair.old, pair.new)
        every += changes
        rendered = RENDERERS[output_format](changes, old=pair.old, new=pair.new)
        status = STATUS[pair.status]
        if output_format == "json":
            documents.append(
                {"package": pair.package, "status": pair.status, **json.loads(rendered)}
            )
        elif output_format == "markdown":
            title = f"## Package `{pair.package}`" + (f": {status}" if status else "")
            parts.append(f"{title}\n\n{rendered.removeprefix(DIFF_MARKER)}")
        else:
            title = f"== package {pair.package}" + (f": {status}" if status else "") + " =="
            parts.append(f"{title}\n{rendered}")
    if output_format == "json":
        whole = {
            "breaking": any(change.breaking for change in every),
            "packages": documents,
        }
        return json.dumps(whole, indent=2, ensure_ascii=False) + "\n", every
    head = DIFF_MARKER if output_format == "markdown" else ""
    return head + "\n".join(parts), every
