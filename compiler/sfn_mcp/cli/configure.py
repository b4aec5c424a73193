"""``sfn-mcp configure``: add the server to an MCP client's configuration."""

from __future__ import annotations

from pathlib import Path

import click

from sfn_mcp.cli import report
from sfn_mcp.clients import CLIENTS, LAUNCHES, plan_all, preview, write_atomic

CONFIGURE_EXAMPLE = """
\b
Examples:
  # the package from ./pyproject.toml [tool.sfn-mcp], started by uvx when uv is installed,
  # AWS_PROFILE/AWS_REGION of this shell
  sfn-mcp configure --client claude-desktop
  sfn-mcp configure --client vscode --client cursor --profile my-profile
  sfn-mcp configure --client claude-code --scope project   # .mcp.json at the repository root
  # the console script of an installed copy (pipx install ./generated/<package>)
  sfn-mcp configure --client windsurf --launch script
  # an interpreter that has the server's requirements
  sfn-mcp configure --client gemini --launch python --python ~/venvs/mcp/bin/python
  # see the change first
  sfn-mcp configure --client kiro --dry-run
  # the local demo AWS (after `. .aws-local/env`)
  sfn-mcp configure --client cursor --env AWS_ENDPOINT_URL="$AWS_ENDPOINT_URL" \\
      --env AWS_ACCESS_KEY_ID=test --env AWS_SECRET_ACCESS_KEY=test
"""


@click.command(epilog=CONFIGURE_EXAMPLE, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--client",
    "clients",
    multiple=True,
    required=True,
    type=click.Choice(list(CLIENTS)),
    help="MCP client to configure (repeatable).",
)
@click.option(
    "--scope",
    type=click.Choice(["user", "project"]),
    help="Which of the client's files: user (default where a client has both) or project "
    "(under the current folder, Claude Code's at the repository root; VS Code has only this "
    "one, Claude Desktop and Windsurf only user).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with the settings (default: ./pyproject.toml [tool.sfn-mcp]).",
)
@click.option(
    "--package",
    "package_id",
    metavar="ID",
    help="With several [tool.sfn-mcp.packages.<id>] in the settings: the one to add.",
)
@click.option("--name", help="Package name of the server (default: from the settings).")
@click.option(
    "--package-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that holds the generated package (default: the settings' output).",
)
@click.option("--server-name", help="Name of the entry (default: the package name with - for _).")
@click.option(
    "--launch",
    type=click.Choice(LAUNCHES),
    help="How the client starts the server: uvx (uv builds its environment from the package's "
    "pyproject.toml; default when uvx or uv is on PATH), script (its console script, installed "
    "on PATH; default next) or python (an interpreter, with PYTHONPATH).",
)
@click.option(
    "--python",
    "python",
    metavar="PATH",
    help="With --launch python: the interpreter that runs the server (default: the one "
    "running sfn-mcp, which a reinstall of sfn-mcp can remove).",
)
@click.option("--profile", help="AWS_PROFILE for the server (default: $AWS_PROFILE; '' for none).")
@click.option(
    "--region",
    help="AWS_REGION for the server (default: $AWS_REGION or $AWS_DEFAULT_REGION; '' for none).",
)
@click.option(
    "--env",
    "env_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Another environment variable for the server (repeatable).",
)
@click.option(
    "--file",
    "file_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write this configuration file instead of the client's usual one.",
)
@click.option("--dry-run", is_flag=True, help="Print the change instead of writing it.")
def configure(
    clients: tuple[str, ...],
    scope: str | None,
    config_path: Path | None,
    package_id: str | None,
    name: str | None,
    package_dir: Path | None,
    server_name: str | None,
    launch: str | None,
    python: str | None,
    profile: str | None,
    region: str | None,
    env_pairs: tuple[str, ...],
    file_path: Path | None,
    dry_run: bool,
) -> None:
    """Add the generated server to an MCP client's configuration (Claude Desktop, Claude Code,
    Cursor, VS Code, Windsurf, Gemini CLI, Kiro, Amazon Q Developer)."""
    with report.reported(exit_code=1):
        server, chosen, plans = plan_all(
            list(dict.fromkeys(clients)),
            scope,
            config_path,
            name,
            package_dir,
            server_name,
            python,
            profile,
            region,
            env_pairs,
            file_path,
            launch,
            package_id,
        )
        report.diagnostics(chosen.diagnostics)
        command = " ".join([chosen.command, *chosen.args])
        click.echo(f"launch ({chosen.kind}): {command}; {chosen.why}", err=True)
        for plan in plans:
            if not dry_run and plan.status != "unchanged":
                write_atomic(plan.path, plan.new)
    for plan in plans:
        key = plan.client.key
        reload = plan.client.reload.format(server=server)
        if plan.status == "unchanged":
            click.echo(f"{key}: {server} in {plan.path} is already up to date", err=True)
        elif dry_run:
            verb = "add" if plan.status == "added" else "update"
            where = "to" if plan.status == "added" else "in"
            click.echo(f"{key}: would {verb} {server} {where} {plan.path} (dry run)", err=True)
            click.echo(preview(plan), nl=False)
        else:
            where = "to" if plan.status == "added" else "in"
            click.echo(f"{key}: {plan.status} {server} {where} {plan.path}; {reload}", err=True)
