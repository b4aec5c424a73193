"""Stage 2, read: which state machines to compile (select) and their definitions, tags and
schemas (pull), as the plain records of ``records`` that every later stage reads."""

from sfn_mcp.read.aws import Aws
from sfn_mcp.read.pull import pull
from sfn_mcp.read.records import MachineSource, Role, SchemaRef, SchemaSource
from sfn_mcp.read.select import select

__all__ = ["Aws", "MachineSource", "Role", "SchemaRef", "SchemaSource", "pull", "select"]
