"""``sfn-mcp bundle``: the distribution artifacts of a generated package, one module each.

``package`` reads and checks the package folder; ``mcpb`` makes the MCP Bundle for Claude
Desktop (``manifest.json`` + the package, ``uv`` server type); ``docker`` the Dockerfile for the
HTTP transport and its ignore file; ``registry`` the MCP Registry's ``server.json``; ``build``
writes them, deterministically, into the output folder.
"""

from sfn_mcp.bundle.build import BundleOptions, BundleReport, artifacts, bundle_package
from sfn_mcp.bundle.package import Package, find_package, read_package

__all__ = [
    "BundleOptions",
    "BundleReport",
    "Package",
    "artifacts",
    "bundle_package",
    "find_package",
    "read_package",
]
