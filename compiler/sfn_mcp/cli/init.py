"""``sfn-mcp init``: write the ``[tool.sfn-mcp]`` table from the flags given, so that every later
command (generate, check, check --offline, diff, configure, the pre-commit hook) finds the same
package without repeating them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import tomlkit

from sfn_mcp.cli import report
from sfn_mcp.cli.options import given_settings, settings_from, source_options
from sfn_mcp.diagnostics import CompileError

INIT_EXAMPLE = """
\b
Examples:
  sfn-mcp init --prefix my-team- --schema-tag-key input-schema-arn --name my_team_tools \\
      -o generated
  sfn-mcp generate && git add pyproject.toml generated/
"""


def _value(key: str, value: Any) -> Any:
    if key == "tag":
        return f"{value[0]}={value[1]}" if isinstance(value, tuple) else value
    if isinstance(value, tuple | list):
        return list(value)
    return value


@click.command(epilog=INIT_EXAMPLE)
@source_options
def init(**options: Any) -> None:
    """Write the [tool.sfn-mcp] table of ./pyproject.toml from the flags given (every other
    byte of the file is kept)."""
    with report.reported(exit_code=2):
        path = Path.cwd() / "pyproject.toml"
        if options.get("config_path"):
            raise CompileError(
                "init writes ./pyproject.toml; --config names a file to read",
                hint="run init without --config",
            )
        if options.get("package"):
            raise CompileError(
                "init writes the one package of a [tool.sfn-mcp] table; --package chooses among "
                "[tool.sfn-mcp.packages.<id>] tables",
                hint="run init without --package, then add package tables by hand (README: "
                "Several packages from one configuration)",
            )
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        try:
            document = tomlkit.parse(text)
        except tomlkit.exceptions.TOMLKitError as exc:
            raise CompileError(f"{path} is not valid TOML: {exc}") from exc
        tool = document.get("tool")
        if tool is not None and "sfn-mcp" in tool:
            raise CompileError(
                f"{path} already has a [tool.sfn-mcp] table",
                hint="edit it, or delete it and run init again",
            )
        given = given_settings(options)
        settings = settings_from({**options, "config_path": None}, ignore_file=True)
        table = tomlkit.table()
        for key, value in given.items():
            table[key] = _value(key, value)
        if "name" not in given:
            table["name"] = settings.name  # written out: it must not change with the prefix
        if tool is None:
            tool = tomlkit.table(is_super_table=True)
            document["tool"] = tool
        tool["sfn-mcp"] = table
        path.write_text(tomlkit.dumps(document), encoding="utf-8")
    click.echo(f"Wrote [tool.sfn-mcp] to {path}:\n", err=True)
    click.echo(tomlkit.dumps({"tool": {"sfn-mcp": table}}), err=True)
    click.echo("Next: sfn-mcp generate (then commit pyproject.toml and the package)", err=True)
