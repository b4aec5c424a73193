"""What the server *serves*: the workflow tools and ``get_execution`` over the low-level MCP
``Server``, their ``tools/list`` entries, and each call's result (text plus
``structuredContent``, an error where the execution or its output says so).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from mcp.server import Server, ServerRequestContext
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    ToolAnnotations,
)
from mcp.types import Tool as McpTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .contract import IDEMPOTENCY_ARGUMENT, MAX_WAIT_SECONDS, STATUS_TOOL, Hints
from .definitions import EXECUTION_ARN, EXECUTION_NAME, ExecutionResult, Tool, WorkflowError
from .execution import PROGRESS, execution_status
from .validation import MAX_REPORTED_ERRORS, _invalid, _validate

logger = logging.getLogger("sfn_mcp.runtime")


def _text_result(text: str, *, data: dict[str, Any] | None = None, error: bool) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=data, is_error=error
    )


def _output_problem(model: type[BaseModel], output: Any) -> str | None:
    """Why ``output`` does not match the output model (JSON rules: no coercion), or None."""
    try:
        model.model_validate_json(json.dumps(output), strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        lines = [
            f"- {'.'.join(str(p) for p in e['loc']) or '(output)'}: {e['msg']}"
            for e in errors[:MAX_REPORTED_ERRORS]
        ]
        if len(errors) > MAX_REPORTED_ERRORS:
            lines.append(f"- … and {len(errors) - MAX_REPORTED_ERRORS} more")
        return "\n".join(lines)
    return None


def tool_result(
    tool_name: str, outcome: ExecutionResult, output_model: type[BaseModel] | None = None
) -> CallToolResult:
    data = outcome.as_dict()
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if outcome.status == "SUCCEEDED" and output_model is not None:
        problem = _output_problem(output_model, outcome.output)
        if problem:
            headline = (
                f"{tool_name}: the execution SUCCEEDED, but its output does not match the "
                f"output schema ({output_model.__name__}) this server was generated with:"
            )
            hint = (
                "Hint: the workflow or its output schema changed; regenerate the server, or fix "
                "the workflow."
            )
            return _text_result(f"{headline}\n{problem}\n{hint}\n{body}", data=data, error=True)
    if not outcome.is_error:
        text = f"{outcome.message}\n{body}" if outcome.message else body
        return _text_result(text, data=data, error=False)
    headline = f"{tool_name}: the execution ended {outcome.status}"
    if outcome.error:
        headline += f" with error {outcome.error}"
    if outcome.cause:
        headline += f": {outcome.cause}"
    return _text_result(f"{headline}\n{body}", data=data, error=True)


class ExecutionQuery(BaseModel):
    """Arguments of the status tool."""

    model_config = ConfigDict(extra="forbid", title="GetExecution")

    execution_arn: str = Field(
        description="The executionArn a workflow tool returned (status RUNNING)."
    )
    wait_seconds: float = Field(
        default=0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Wait up to this long for the execution to end (capped by the workflow's own "
        "wait); 0 answers at once.",
    )


def status_tool(tools: tuple[Tool[Any], ...]) -> Tool[ExecutionQuery]:
    """``get_execution``: follows up executions of the server's own STANDARD workflows."""
    workflows = tuple(tool.workflow for tool in tools if tool.workflow)

    async def run(query: ExecutionQuery) -> ExecutionResult:
        return await execution_status(workflows, query.execution_arn, query.wait_seconds)

    names = ", ".join(sorted(t.name for t in tools if t.takes_idempotency_key)) or "none"
    return Tool(
        name=STATUS_TOOL,
        title="Get execution",
        description="Status, output or error of an execution of this server's STANDARD workflows "
        f"({names}), e.g. one that a tool returned with status RUNNING. It reads any execution "
        "of those state machines, whoever started it, and refuses every other ARN.",
        workflow=None,
        input_model=ExecutionQuery,
        run=run,
        hints=Hints(read_only=True, destructive=False, idempotent=True, open_world=False),
    )


def tool_annotations(hints: Hints, title: str) -> ToolAnnotations:
    """The MCP annotations (behaviour hints for the client) that ``hints`` names readably."""
    return ToolAnnotations(
        title=title,
        read_only_hint=hints.read_only,
        destructive_hint=hints.destructive,
        idempotent_hint=hints.idempotent,
        open_world_hint=hints.open_world,
    )


def _listed(tool: Tool[Any]) -> McpTool:
    return McpTool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
        annotations=tool_annotations(tool.hints, tool.title),
    )


def served_tools(tools: tuple[Tool[Any], ...]) -> tuple[Tool[Any], ...]:
    """Every tool the server offers: the workflow tools and the status tool."""
    return (*tools, status_tool(tools))


def tools_list(tools: tuple[Tool[Any], ...]) -> list[dict[str, Any]]:
    """What ``tools/list`` answers, as JSON (sfn-mcp writes it into surface.json)."""
    return [
        _listed(tool).model_dump(mode="json", by_alias=True, exclude_none=True)
        for tool in served_tools(tools)
    ]


@dataclass
class Scopes:
    """OAuth scopes tools need beyond the ones every request needs (set by the transport in
    OAuth mode): ``run``, for tools whose workflow is not read-only."""

    run: str | None = None


SCOPES = Scopes()


def missing_scope(tool: Tool[Any]) -> str | None:
    """The scope the caller's access token lacks for ``tool``, if any."""
    if SCOPES.run is None or tool.workflow is None or tool.hints.read_only:
        return None
    token = get_access_token()
    return None if token is not None and SCOPES.run in token.scopes else SCOPES.run


def build_server(
    name: str, *, version: str, instructions: str, tools: tuple[Tool[Any], ...]
) -> Server[Any]:
    served = served_tools(tools)
    by_name = {tool.name: tool for tool in served}
    output_models = {tool.workflow.arn: tool.output_model for tool in tools if tool.workflow}
    listing = ListToolsResult(tools=[_listed(tool) for tool in served])

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return listing

    async def call_tool(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        tool = by_name.get(params.name)
        if tool is None:
            known = ", ".join(sorted(by_name))
            return _text_result(f"Unknown tool {params.name!r}. Tools: {known}", error=True)
        missing = missing_scope(tool)
        if missing:
            return _text_result(
                f"{tool.name}: the access token lacks the scope {missing!r}, which tools that "
                "are not read-only need",
                error=True,
            )
        arguments = dict(params.arguments or {})
        options: dict[str, Any] = {}
        key = arguments.pop(IDEMPOTENCY_ARGUMENT, None) if tool.takes_idempotency_key else None
        if key is not None:
            if not (isinstance(key, str) and EXECUTION_NAME.fullmatch(key)):
                return _text_result(
                    f"{_invalid(tool)}\n"
                    f"- {IDEMPOTENCY_ARGUMENT}: must be 1 to 80 letters, digits, - and _",
                    error=True,
                )
            options["idempotency_key"] = key
        model = _validate(tool, arguments)
        if isinstance(model, str):
            return _text_result(model, error=True)
        wants_progress = bool(ctx.meta and ctx.meta.get("progress_token") is not None)
        reset = PROGRESS.set(ctx.session.report_progress if wants_progress else None)
        try:
            outcome = await tool.run(model, **options)
        except WorkflowError as exc:
            return _text_result(f"{tool.name}: {exc}", error=True)
        except Exception as exc:  # a bug must still answer the call, not drop the session
            logger.exception("tool %s failed", tool.name)
            return _text_result(
                f"{tool.name}: internal error in the server: {type(exc).__name__}: {exc}",
                error=True,
            )
        finally:
            PROGRESS.reset(reset)
        typed = tool.output_model
        if tool.name == STATUS_TOOL and outcome.execution_arn:
            match = EXECUTION_ARN.match(outcome.execution_arn)
            if match:
                typed = output_models.get(f"{match['prefix']}:stateMachine:{match['machine']}")
        return tool_result(tool.name, outcome, typed)

    return Server(
        name,
        version=version,
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
