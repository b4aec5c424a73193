"""``sfn-mcp bundle``: distribution artifacts of the generated package."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sfn_mcp.bundle import BundleOptions, bundle_package
from sfn_mcp.bundle.docker import DEFAULT_BASE_IMAGE
from sfn_mcp.cli import report
from sfn_mcp.cli.options import CONFIG_OPTION, settings_from
from sfn_mcp.diagnostics import CompileError

BUNDLE_EXAMPLE = """
\b
Examples:
  # the package [tool.sfn-mcp] names, into dist/ beside it
  sfn-mcp bundle
  # ready to publish: the registry name and where the release assets download from
  sfn-mcp bundle --registry-name io.github.acme/ai-workflows \\
      --release-url https://github.com/acme/tools/releases/download/v1.0.0
  # another package folder, another output folder
  sfn-mcp bundle --package-dir build/my_tools --out build/dist
"""


def _shown(path: Path) -> str:
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)
    return str(path) if shown.startswith("..") else shown


@click.command(epilog=BUNDLE_EXAMPLE, context_settings={"help_option_names": ["-h", "--help"]})
@CONFIG_OPTION
@click.option(
    "--package-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The generated package's folder (default: output/name from the settings).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (default: dist/ beside the package).",
)
@click.option("--author", help="Author shown by Claude Desktop (default: '<server> maintainers').")
@click.option(
    "--registry-name",
    metavar="NAME",
    help="server.json name in the MCP Registry, e.g. io.github.<user>/<server> (also the "
    "image's io.modelcontextprotocol.server.name label).",
)
@click.option(
    "--release-url",
    metavar="URL",
    help="https:// folder the .mcpb is downloaded from, e.g. "
    "https://github.com/<owner>/<repo>/releases/download/v<version>.",
)
@click.option(
    "--image",
    metavar="REF",
    help="Where the image is pushed (registry/name:tag), to list it in server.json too.",
)
@click.option(
    "--base-image",
    default=DEFAULT_BASE_IMAGE,
    show_default=True,
    metavar="REF",
    help="The Dockerfile's base image: an exact tag or a digest.",
)
def bundle(
    config_path: Path | None,
    package_dir: Path | None,
    out: Path | None,
    author: str | None,
    registry_name: str | None,
    release_url: str | None,
    image: str | None,
    base_image: str,
) -> None:
    """Write the package's distribution artifacts: an MCPB bundle for Claude Desktop, a
    Dockerfile for the HTTP transport and a server.json for the MCP Registry. The same package
    gives the same bytes. Exit 0, or 2 on errors."""
    with report.reported(exit_code=2):
        if package_dir is None:
            settings = settings_from({"config_path": config_path})
            if settings.config_file is None:
                raise CompileError(
                    f"no [tool.sfn-mcp] table in {Path.cwd() / 'pyproject.toml'} or any folder "
                    "above it, so there is no package to bundle",
                    hint="pass --package-dir with the generated package's folder, or --config "
                    "with the project's settings",
                )
            package_dir = settings.output / settings.name
        options = BundleOptions(
            author=author,
            base_image=base_image,
            registry_name=registry_name,
            release_url=release_url,
            image=image,
        )
        result = bundle_package(package_dir, out, options)
    package = result.package
    report.progress(
        f"{package.distribution} {package.version} ({len(package.tools)} tools) from "
        f"{_shown(package.folder)} into {_shown(result.out)}:"
    )
    for artifact in result.written + result.unchanged:
        status = "wrote" if artifact in result.written else "unchanged"
        report.progress(f"  {status} {artifact.name}: {artifact.what}")
    report.progress(
        f"  {package.distribution}-{package.version}.mcpb sha256 {result.bundle_sha256}"
    )
    report.diagnostics(result.warnings)
