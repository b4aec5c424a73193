"""Stage 7, write: swap the rendered package into place only once every file exists."""

from sfn_mcp.write.write import (
    WriteReport,
    check_target,
    is_generated,
    read_tree,
    tree_changes,
    write_package,
)

__all__ = [
    "WriteReport",
    "check_target",
    "is_generated",
    "read_tree",
    "tree_changes",
    "write_package",
]
