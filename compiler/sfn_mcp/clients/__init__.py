"""Clients: add the generated server to an MCP client's configuration file
(``sfn-mcp configure``).

``table`` knows the clients (their files, scopes and entry shapes), ``entry`` works out what
the entry says (the package, its environment), ``launch`` the command that starts the server
(uvx, its console script, or an interpreter) and why it lasts, ``plan`` edits each file's text
and writes it, and ``jsonc`` is the general JSON-with-comments editor it uses. The command line
(``sfn_mcp.cli.configure``) calls ``plan_all``, prints the launch's diagnostics, then calls
``write_atomic`` or ``preview``; nothing here prints.
"""

from sfn_mcp.clients.launch import LAUNCHES, Launch
from sfn_mcp.clients.plan import Plan, plan_all, plan_update, preview, write_atomic
from sfn_mcp.clients.table import CLIENTS, Client

__all__ = [
    "CLIENTS",
    "LAUNCHES",
    "Client",
    "Launch",
    "Plan",
    "plan_all",
    "plan_update",
    "preview",
    "write_atomic",
]
