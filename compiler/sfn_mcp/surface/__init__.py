"""Stage 6, surface: ``surface.json``, the reviewable contract of the rendered package, read
from the package itself (``listing``) and laid out canonically (``manifest``)."""

from sfn_mcp.surface.listing import (
    LISTING,
    PackageImportError,
    Served,
    committed_listing,
    listing_problems,
    listing_text,
    served_listing,
)
from sfn_mcp.surface.manifest import FORMAT, LISTED_KEYS, MANIFEST, manifest, previous_names

__all__ = [
    "FORMAT",
    "LISTING",
    "LISTED_KEYS",
    "MANIFEST",
    "PackageImportError",
    "Served",
    "committed_listing",
    "listing_problems",
    "listing_text",
    "manifest",
    "previous_names",
    "served_listing",
]
