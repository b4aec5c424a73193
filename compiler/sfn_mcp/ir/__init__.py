"""Stage 4, the IR: the typed, immutable description of the package (``types``) and the
decisions that make it (``build``)."""

from sfn_mcp.ir.build import build
from sfn_mcp.ir.types import Hints, Mode, ModelModule, Package, Tool, ToolInput, ToolOutput

__all__ = ["Hints", "ModelModule", "Mode", "Package", "Tool", "ToolInput", "ToolOutput", "build"]
