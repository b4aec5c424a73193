"""Stage 1, settings: what to compile and how, from flags, ``[tool.sfn-mcp]`` or the anchor's
variables; each setting is declared once in ``declared``."""

from sfn_mcp.settings.load import (
    ResourceSettings,
    SchemaFileSettings,
    Settings,
    Source,
    WorkflowSettings,
    find_config,
    load_packages,
    load_settings,
)

__all__ = [
    "ResourceSettings",
    "SchemaFileSettings",
    "Settings",
    "Source",
    "WorkflowSettings",
    "find_config",
    "load_packages",
    "load_settings",
]
