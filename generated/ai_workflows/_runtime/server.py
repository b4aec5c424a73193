"""What the server *serves*: the workflow tools and ``get_execution`` over the low-level MCP
``Server``, their ``tools/list`` entries, and each call's result (text plus
``structuredContent``, an error where the execution or its output says so).

Every result can be sent whatever the execution's data holds: text that UTF-8 cannot carry is
escaped, output nested deeper than clients' JSON parsers go is sent as its JSON text, and a
result that still cannot be encoded becomes an error result rather than a message that would
end the connection (over stdio, the process).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, cast

from mcp.server import Server, ServerRequestContext
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CONNECTION_CLOSED,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    CallToolRequestParams,
    CallToolResult,
    GetTaskRequestParams,
    JSONRPCError,
    ListToolsResult,
    PaginatedRequestParams,
    RequestParams,
    ServerCapabilities,
    ServerTasksCapability,
    ServerTasksRequestsCapability,
    TasksCallCapability,
    TasksCancelCapability,
    TaskStatusNotification,
    TaskStatusNotificationParams,
    TasksToolsCapability,
    TextContent,
    ToolAnnotations,
    ToolExecution,
)
from mcp.types import Tool as McpTool
from mcp.types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .approvals import Pending, pending_step, send_answer, send_reply
from .catalog import Catalog, Named
from .contract import (
    ANSWER_TOOL,
    DESCRIBE_TOOL,
    FIND_TOOL,
    IDEMPOTENCY_ARGUMENT,
    MAX_WAIT_SECONDS,
    RUN_TOOL,
    STATUS_TOOL,
    Hints,
)
from .definitions import (
    EXECUTION_ARN,
    EXECUTION_NAME,
    SURROGATE,
    ExecutionResult,
    Tool,
    WorkflowError,
    escape_surrogates,
    excerpt,
    json_depth,
    some_names,
)
from .execution import ASK, PROGRESS, START_ONLY, execution_status, owner_of
from .search import DescribeQuery, FindQuery, Index, RunRequest, invalid, search_tools
from .selection import InvalidCursor, Surface, View, fingerprint, listed_page
from .tasks import (
    EXTENSION,
    RELATED_TASK_META,
    State,
    Tasks,
    declares_extension,
    require_extension,
    task_id,
)
from .validation import MAX_REPORTED_ERRORS, _invalid, check_arguments

logger = logging.getLogger("sfn_mcp.runtime")

UNSENDABLE = (
    "Note: the output held characters that cannot be sent as they are (unpaired UTF-16 "
    "surrogates); this text keeps them as \\uXXXX escapes, structuredContent has U+FFFD instead."
)
# Output nested deeper than this is sent as its JSON text: the SDK's encoder stops at 255
# levels of the whole message, and its parser (a Python client's) at 200.
MAX_OUTPUT_DEPTH = 128


def _replaced(value: Any) -> Any:
    """A copy of the JSON value with U+FFFD for each unpaired surrogate of its strings and
    keys, made without recursion."""

    def clean(text: str) -> str:
        return SURROGATE.sub("\ufffd", text)

    if isinstance(value, str):
        return clean(value)
    if not isinstance(value, dict | list):
        return value
    root: Any = {} if isinstance(value, dict) else []
    pending = [(value, root)]
    while pending:
        source, target = pending.pop()
        for key, item in source.items() if isinstance(source, dict) else enumerate(source):
            copied: Any = item
            if isinstance(item, dict | list):
                copied = {} if isinstance(item, dict) else []
                pending.append((item, copied))
            elif isinstance(item, str):
                copied = clean(item)
            if isinstance(target, dict):
                target[clean(key) if isinstance(key, str) else key] = copied
            else:
                target.append(copied)
    return root


def _text_result(text: str, *, data: dict[str, Any] | None = None, error: bool) -> CallToolResult:
    # Whatever data holds is in the text too (as its JSON), so the text shows whether it holds
    # surrogates; the scan runs at C speed.
    if SURROGATE.search(text):
        text = f"{escape_surrogates(text)}\n{UNSENDABLE}"
        data = _replaced(data)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=data, is_error=error
    )


def _sendable(tool_name: str, result: CallToolResult) -> CallToolResult:
    """``result``, if it can be encoded as a message; else an error result that says so. A
    message that fails to encode ends the whole connection: over stdio, the server itself."""
    try:
        result.model_dump_json(by_alias=True, exclude_none=True)
    except Exception as exc:  # pydantic's serialization errors, RecursionError …
        logger.warning("%s: a result could not be encoded: %s", tool_name, excerpt(str(exc), 200))
        return _text_result(
            f"{tool_name}: the result could not be sent ({type(exc).__name__}: "
            f"{excerpt(str(exc), 200)}); the execution's outcome may be read in the AWS console",
            error=True,
        )
    return result


def _output_problem(model: type[BaseModel], output: Any) -> str | None:
    """Why ``output`` does not match the output model (JSON rules: no coercion), or None."""
    try:
        # unpaired surrogates (sent as U+FFFD) are no reason for a mismatch
        text = SURROGATE.sub("\ufffd", json.dumps(output, ensure_ascii=False))
        model.model_validate_json(text, strict=True)
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


def _as_json_text(output: Any) -> str | None:
    """Output too deep to send as structure, as its compact JSON text (None if even that fails)."""
    try:
        return json.dumps(output, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError):
        return None


def tool_result(
    tool_name: str, outcome: ExecutionResult, output_model: type[BaseModel] | None = None
) -> CallToolResult:
    if isinstance(outcome.output, dict | list) and (
        json_depth(outcome.output, MAX_OUTPUT_DEPTH) > MAX_OUTPUT_DEPTH
    ):
        as_text = _as_json_text(outcome.output)
        deep = (
            f"the output is nested more than {MAX_OUTPUT_DEPTH} levels deep, deeper than MCP "
            "clients read structured content, so it is given as its JSON text"
            if as_text is not None
            else "the output is nested too deeply to be sent at all; read it in AWS"
        )
        outcome = replace(outcome, output=as_text)
        if output_model is not None or as_text is None:  # no output that fits the schema
            data = outcome.as_dict()
            body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
            headline = f"{tool_name}: the execution ended {outcome.status}, but {deep}"
            return _text_result(f"{headline}\n{body}", data=data, error=True)
        message = f"Note: {deep}." + (f" {outcome.message}" if outcome.message else "")
        outcome = replace(outcome, message=message)
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


def status_tool(tools: Iterable[Named]) -> Tool[ExecutionQuery]:
    """``get_execution``: follows up executions of the server's own STANDARD workflows."""
    tools = tuple(tools)
    workflows = tuple(tool.workflow for tool in tools if tool.workflow)

    async def run(query: ExecutionQuery) -> ExecutionResult:
        return await execution_status(workflows, query.execution_arn, query.wait_seconds)

    names = some_names(sorted(t.name for t in tools if _standard(t)))
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


def _standard(tool: Named) -> bool:
    """Whether ``tool`` runs a STANDARD workflow (it takes an idempotency key, may be a task)."""
    return tool.workflow is not None and tool.workflow.type == "STANDARD"


class StepAnswer(BaseModel):
    """Arguments of the approval tool."""

    model_config = ConfigDict(extra="forbid", title="AnswerStep")

    execution_arn: str = Field(description="The execution that waits for an answer.")
    approved: bool = Field(description="The user's decision: true approves the step.")
    comment: str | None = Field(default=None, max_length=2000, description="The user's note.")


def answer_tool(tools: Iterable[Named]) -> Tool[StepAnswer] | None:
    """``answer_step``: answers an approval step for clients that cannot ask the user (only
    when some workflow has one), for executions of the server's own workflows only."""
    workflows = tuple(t.workflow for t in tools if t.workflow and t.workflow.approval_steps)
    if not workflows:
        return None
    names = some_names(sorted(w.name for w in workflows))

    async def run(reply: StepAnswer) -> ExecutionResult:
        workflow = owner_of(workflows, reply.execution_arn, ANSWER_TOOL)
        pending = await pending_step(workflow, reply.execution_arn.strip())
        if pending is None:
            raise WorkflowError(
                f"{excerpt(reply.execution_arn, 256)} waits at no approval step now: it may "
                f"have been answered already; read it with {STATUS_TOOL}"
            )
        content: dict[str, Any] = {"approved": reply.approved}
        if reply.comment is not None:
            content["comment"] = reply.comment
        done = await send_answer(pending, "accept", content)
        outcome = await execution_status(workflows, reply.execution_arn, 0)
        return replace(outcome, message=f"{done[:1].upper()}{done[1:]}.")

    return Tool(
        name=ANSWER_TOOL,
        title="Answer a workflow's approval step",
        description="Send the user's answer to a workflow execution that waits for a person "
        f"(a RUNNING result says so, with the question). Workflows with approval steps: {names}. "
        "Ask the user first; never answer on their behalf. Approving lets the workflow go on; "
        "not approving fails the step.",
        workflow=None,
        input_model=StepAnswer,
        run=run,
        hints=Hints(read_only=False, destructive=True, idempotent=False, open_world=True),
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
    standard = tool.workflow is not None and tool.workflow.type == "STANDARD"
    return McpTool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
        annotations=tool_annotations(tool.hints, tool.title),
        # 2025-11-25 Tasks: a STANDARD workflow may run as a task; the others answer at once
        execution=ToolExecution(task_support="optional" if standard else "forbidden"),
    )


def served_tools(tools: tuple[Tool[Any], ...]) -> tuple[Tool[Any], ...]:
    """Every tool the server offers: the workflow tools, the status tool and, where a workflow
    waits for people, the approval tool."""
    return (*tools, *own_tools(tools))


def own_tools(tools: Iterable[Named]) -> tuple[Tool[Any], ...]:
    """The tools of the server itself (status, approval) for these workflow tools."""
    tools = tuple(tools)
    answering = answer_tool(tools)
    return (status_tool(tools), *((answering,) if answering else ()))


def tools_list(tools: tuple[Tool[Any], ...]) -> list[dict[str, Any]]:
    """What ``tools/list`` answers, as JSON (sfn-mcp writes it into surface.json)."""
    return [_dumped(_listed(tool)) for tool in served_tools(tools)]


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


def _can_elicit(ctx: ServerRequestContext[Any]) -> bool:
    """Whether the person at the client can be asked here: a 2025-11-25 connection whose
    client declared elicitation (2026-07-28 plain calls get the approval tool instead)."""
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return False
    capabilities = ctx.session.client_capabilities
    return capabilities is not None and capabilities.elicitation is not None


async def _elicit(
    ctx: ServerRequestContext[Any], message: str, schema: dict[str, Any]
) -> dict[str, Any]:
    """One elicitation: the client's answer as {action, content}."""
    reply = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
    return {"action": reply.action, "content": reply.content}


CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"confirm": {"type": "boolean", "title": "Run it", "default": False}},
    "required": ["confirm"],
}


async def _confirmed(ctx: ServerRequestContext[Any], tool: Tool[Any], arguments: Any) -> str | None:
    """For a workflow that asks before it runs: None once the user confirmed, else why not."""
    if not _can_elicit(ctx):
        return (
            f"{tool.name}: this workflow runs only once the user confirms it, and this client "
            "cannot ask them (it does not support elicitation); nothing was started. Run it "
            "from a client that can ask, or set confirm = false for it and regenerate."
        )
    shown = excerpt(json.dumps(arguments, ensure_ascii=False, sort_keys=True), 600)
    reply = await _elicit(ctx, f"Run {tool.title} ({tool.name}) with {shown}?", CONFIRM_SCHEMA)
    content = reply.get("content") or {}
    if reply.get("action") == "accept" and content.get("confirm") is True:
        return None
    return f"{tool.name}: the user did not confirm the run; nothing was started"


class _TaskParams(RequestParams):
    """``tasks/update``: the task and the answers to its questions."""

    task_id: str
    input_responses: dict[str, Any] | None = None


class _Notification:
    """A notification the SDK's typed union does not know (2025-11-25 task status)."""

    def __init__(self, notification: TaskStatusNotification) -> None:
        self._notification = notification

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        return self._notification.model_dump(**kwargs)


SEARCH_INSTRUCTIONS = (
    " This server offers its workflows through search: find one with find_workflows, read its "
    "input schema with describe_workflow, then run it with run_workflow."
)


def build_server(
    name: str,
    *,
    version: str,
    instructions: str,
    tools: tuple[Tool[Any], ...] | Catalog,
    surface: Surface = "all",
    view: View | None = None,
) -> Server[Any]:
    """The server of these workflow tools: built tools, or a ``Catalog`` whose tools are built
    on their first call (its ``tools/list`` then comes from its ``listing.json``).

    ``surface`` is the package's default; ``view`` (the server's command line) may choose
    another, filter the tools and page the listing. A filter that names a tool the package
    lacks, or leaves no tool, raises ``ViewError``."""
    catalog = tools if isinstance(tools, Catalog) else Catalog(tools)
    view = view or View(surface=surface)
    package_own = [tool.name for tool in own_tools(catalog.entries.values())]
    recorded: dict[str, dict[str, Any]] = {}
    # what the SDK's own result adds around the tools (the 2026-07-28 cache hints and type)
    envelope = ListToolsResult(tools=[]).model_dump(by_alias=True, mode="json", exclude_none=True)

    def package_listing() -> dict[str, dict[str, Any]]:
        """Every tool of the package as tools/list lists it, by name: the recorded listing when
        it lists exactly these tools, else the listing of the tools themselves (each built)."""
        if not recorded:
            listed = catalog.listed()
            names = [*catalog.entries, *package_own]
            if listed is not None and [t.get("name") for t in listed] != names:
                logger.warning("listing.json does not list this server's tools: ignoring it")
                listed = None
            if listed is None:
                listed = tools_list(catalog.all_tools())
            recorded.update((str(entry["name"]), entry) for entry in listed)
        return recorded

    def read_only(tool_name: str) -> bool:
        return (package_listing()[tool_name].get("annotations") or {}).get("readOnlyHint") is True

    chosen = view.chosen(catalog.entries, read_only) if view.filtered else tuple(catalog.entries)
    workflow_tools = tuple(catalog.entries[tool_name] for tool_name in chosen)
    offered = set(chosen)
    own = {tool.name: tool for tool in own_tools(workflow_tools)}
    by_arn = {tool.workflow.arn: tool.name for tool in workflow_tools if tool.workflow}
    searching = view.surface == "search"
    index: list[Index] = []
    listing: list[dict[str, Any]] = []
    marks: list[str] = []  # the listing's fingerprint, for its cursors

    def find(tool_name: str) -> Tool[Any] | None:
        """The tool called ``tool_name``, built on its first use (None: not on this server)."""
        if tool_name in own:
            return own[tool_name]
        return catalog.tool(tool_name) if tool_name in offered else None

    def output_model_of(machine_arn: str) -> type[BaseModel] | None:
        tool_name = by_arn.get(machine_arn)
        return catalog.tool(tool_name).output_model if tool_name else None

    def searched() -> Index:
        if not index:
            entries = package_listing()
            tags = {t.name: t.workflow.tags for t in workflow_tools if t.workflow}
            index.append(Index([entries[n] for n in chosen], tags))
        return index[0]

    def served() -> list[dict[str, Any]]:
        """Every entry tools/list answers with, in order: the recorded listing as it is when
        nothing is filtered, else the chosen tools' entries, or the search tools, then the
        server's own tools for them."""
        if not listing:
            entries = package_listing()
            marks.clear()
            if not searching and not view.filtered:
                listing.extend(entries.values())
            else:
                head = (
                    [_dumped(t) for t in search_tools([entries[n] for n in chosen])]
                    if searching
                    else [entries[n] for n in chosen]
                )
                listing.extend([*head, *(_dumped(_listed(t)) for t in own.values())])
            marks.append(fingerprint(listing, view))
        return listing

    def result_of(entry: Named, outcome: ExecutionResult) -> CallToolResult:
        tool = catalog.tool(entry.name)
        return _sendable(tool.name, tool_result(tool.name, outcome, tool.output_model))

    tasks = Tasks(workflow_tools, result_of)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> dict[str, Any]:
        try:
            page, following = listed_page(
                served(), view.page_size, params.cursor if params else None, marks[0]
            )
        except InvalidCursor as exc:
            raise MCPError(code=INVALID_PARAMS, message=f"Invalid cursor: {exc}") from None
        answer = {**envelope, "tools": page}
        if following is not None:
            answer["nextCursor"] = following
        return answer

    def unknown(tool_name: str) -> CallToolResult:
        shown = excerpt(tool_name, 128)
        if searching:
            text = f"Unknown tool {shown}. Find workflows with {FIND_TOOL}; run one with {RUN_TOOL}"
        else:
            text = f"Unknown tool {shown}. Tools: {some_names(sorted([*chosen, *own]))}"
        return _text_result(text, error=True)

    def run_target(tool_name: str, arguments: Any) -> str | None:
        """The workflow a call runs: its own tool's, or run_workflow's ``name``."""
        if searching and tool_name == RUN_TOOL:
            inner = arguments.get("name") if isinstance(arguments, dict) else None
            return inner if isinstance(inner, str) and inner in offered else None
        return tool_name

    def search_call(params: CallToolRequestParams) -> CallToolResult:
        """A find_workflows or describe_workflow call."""
        model = FindQuery if params.name == FIND_TOOL else DescribeQuery
        try:
            query = model.model_validate(params.arguments or {})
        except ValidationError as exc:
            return _text_result(invalid(params.name, exc), error=True)
        if isinstance(query, FindQuery):
            found: dict[str, Any] | str = searched().find(query)
        else:
            assert isinstance(query, DescribeQuery)
            found = searched().describe(query.name)
        if isinstance(found, str):
            return _text_result(found, error=True)
        text = json.dumps(found, indent=2, ensure_ascii=False)
        return _text_result(text, data=found, error=False)

    def unwrapped(params: CallToolRequestParams) -> CallToolRequestParams | CallToolResult:
        """run_workflow's call as the call of the workflow's own tool (or why it cannot be)."""
        given = dict(params.arguments or {})
        named = given.get("name")
        if isinstance(named, str) and named not in offered:
            text = f"{searched().unknown(named)} Nothing was started."
            return _text_result(text, error=True)
        if isinstance(given.get("arguments"), str):  # some clients send an object as JSON text
            try:
                decoded = json.loads(given["arguments"])
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                given["arguments"] = decoded
        try:
            request = RunRequest.model_validate(given)
        except ValidationError as exc:
            return _text_result(invalid(RUN_TOOL, exc, started=False), error=True)
        return params.model_copy(update={"name": request.name, "arguments": request.arguments})

    async def call_tool(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        result, _ = await answer(ctx, params)
        return _sendable(params.name[:80], result)

    async def answer(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams, *, start_only: bool = False
    ) -> tuple[CallToolResult, ExecutionResult | None]:
        """The call's result, and the execution's outcome where one was started or read."""
        if searching and params.name in (FIND_TOOL, DESCRIBE_TOOL):
            return search_call(params), None
        if searching and params.name == RUN_TOOL:
            inner = unwrapped(params)
            if isinstance(inner, CallToolResult):
                return inner, None
            params = inner
        elif searching and params.name in offered:  # only what tools/list lists is callable
            return _text_result(
                f"{params.name} is not a tool of this server: run it with {RUN_TOOL} "
                f"(name {params.name!r}); nothing was started",
                error=True,
            ), None
        tool = find(params.name)
        if tool is None:
            return unknown(params.name), None
        missing = missing_scope(tool)
        if missing:
            return _text_result(
                f"{tool.name}: the access token lacks the scope {missing!r}, which tools that "
                "are not read-only need",
                error=True,
            ), None
        arguments = dict(params.arguments or {})
        options: dict[str, Any] = {}
        key = arguments.pop(IDEMPOTENCY_ARGUMENT, None) if tool.takes_idempotency_key else None
        if key is not None:
            if not (isinstance(key, str) and EXECUTION_NAME.fullmatch(key)):
                return _text_result(
                    f"{_invalid(tool)}\n"
                    f"- {IDEMPOTENCY_ARGUMENT}: must be 1 to 80 letters, digits, - and _",
                    error=True,
                ), None
            options["idempotency_key"] = key
        model = await check_arguments(tool, arguments)
        if isinstance(model, str):
            return _text_result(model, error=True), None
        if tool.workflow is not None and tool.workflow.confirm:
            refused = await _confirmed(ctx, tool, arguments)
            if refused:
                return _text_result(refused, error=True), None
        wants_progress = bool(ctx.meta and ctx.meta.get("progress_token") is not None)
        reset = PROGRESS.set(ctx.session.report_progress if wants_progress else None)
        starting = START_ONLY.set(start_only)

        async def ask(pending: Pending) -> None:
            await send_reply(pending, await _elicit(ctx, pending.message, pending.schema))

        asking = ASK.set(ask if _can_elicit(ctx) and not start_only else None)
        try:
            outcome = await tool.run(model, **options)
        except WorkflowError as exc:
            return _text_result(f"{tool.name}: {exc}", error=True), None
        except Exception as exc:  # a bug must still answer the call, not drop the session
            logger.exception("tool %s failed", tool.name)
            return _text_result(
                f"{tool.name}: internal error in the server: {type(exc).__name__}: "
                f"{excerpt(str(exc), 200)}",
                error=True,
            ), None
        finally:
            ASK.reset(asking)
            START_ONLY.reset(starting)
            PROGRESS.reset(reset)
        typed = tool.output_model
        if tool.name in (STATUS_TOOL, ANSWER_TOOL) and outcome.execution_arn:
            match = EXECUTION_ARN.match(outcome.execution_arn)
            if match:
                typed = output_model_of(f"{match['prefix']}:stateMachine:{match['machine']}")
        return tool_result(tool.name, outcome, typed), outcome

    async def as_task(ctx: ServerRequestContext[Any], call_next: CallNext) -> HandlerResult:
        """Middleware: a ``tools/call`` of a STANDARD workflow becomes a task when the client
        asked for one (2025-11-25 ``params.task``) or declared the extension (2026-07-28)."""
        raw = ctx.params or {}
        if ctx.method != "tools/call":
            return await call_next(ctx)
        target = run_target(str(raw.get("name")), raw.get("arguments"))
        tool = catalog.entries.get(target) if target in offered else None
        modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        wanted = declares_extension(ctx) if modern else isinstance(raw.get("task"), dict)
        if wanted and not modern and tool is not None and not tasks.may_become_task(tool):
            # 2025-11-25: a task asked of a tool that cannot be one is Method not found (an
            # EXPRESS workflow answers in the call; run_workflow may reach one)
            raise MCPError(
                code=METHOD_NOT_FOUND,
                message=f"{tool.name} is an EXPRESS workflow: it answers in the call and cannot "
                "run as a task; call it without a task",
            )
        if not wanted or not tasks.may_become_task(tool):
            return await call_next(ctx)
        params = CallToolRequestParams.model_validate(raw, by_name=False)
        result, outcome = await answer(ctx, params, start_only=True)
        if outcome is None or not outcome.execution_arn:  # refused before anything started
            if not modern:  # a 2025-11-25 task request is answered by a task, or an error
                refused = "\n".join(
                    block.text for block in result.content if isinstance(block, TextContent)
                )
                raise MCPError(code=INVALID_PARAMS, message=refused or "refused")
            return _sendable(params.name[:80], result)
        state = await tasks.state(task_id(outcome.execution_arn))
        if modern:
            return {"resultType": "task", **state.fields(era="2026")}
        return {"task": state.fields(era="2025-11-25")}

    async def get_task(ctx: ServerRequestContext[Any], params: GetTaskRequestParams) -> Any:
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            require_extension(ctx)
            return (await tasks.state(params.task_id)).detailed()
        return (await tasks.state(params.task_id)).fields(era="2025-11-25")

    async def cancel_task(ctx: ServerRequestContext[Any], params: GetTaskRequestParams) -> Any:
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            require_extension(ctx)
            await tasks.cancel(params.task_id)
            return {}
        return (await tasks.cancel(params.task_id)).fields(era="2025-11-25")

    async def update_task(ctx: ServerRequestContext[Any], params: _TaskParams) -> Any:
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            raise MCPError(code=METHOD_NOT_FOUND, message="Method not found", data="tasks/update")
        require_extension(ctx)
        await tasks.update(params.task_id, params.input_responses or {})
        return {}

    async def task_result(ctx: ServerRequestContext[Any], params: GetTaskRequestParams) -> Any:
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            raise MCPError(code=METHOD_NOT_FOUND, message="Method not found", data="tasks/result")

        async def ask(pending: Pending) -> dict[str, Any] | None:
            return await _elicit(ctx, pending.message, pending.schema)

        async def on_change(state: State) -> None:
            fields = state.fields(era="2025-11-25")
            notification = TaskStatusNotification(
                params=TaskStatusNotificationParams.model_validate(fields)
            )
            try:
                await ctx.session.send_notification(_Notification(notification))  # type: ignore[arg-type]
            except Exception as exc:  # a status notification is a courtesy, never a failure
                logger.debug("task status notification not sent: %s", exc)

        state = await tasks.until_done(params.task_id, ask if _can_elicit(ctx) else None, on_change)
        assert state.result is not None
        result = state.result.model_dump(mode="json", by_alias=True, exclude_none=True)
        result.pop("resultType", None)  # a 2026-07-28 field; this is a 2025-11-25 answer
        result["_meta"] = {RELATED_TASK_META: {"taskId": params.task_id}}
        return result

    server = _Server(
        name,
        version=version,
        instructions=instructions + (SEARCH_INSTRUCTIONS if searching else ""),
        # a mapping is sent as it is (the SDK validates every spec result on its way out)
        on_list_tools=cast(Any, list_tools),
        on_call_tool=call_tool,
    )
    server.middleware.append(as_task)
    server.add_request_handler("tasks/get", GetTaskRequestParams, get_task)
    server.add_request_handler("tasks/cancel", GetTaskRequestParams, cancel_task)
    server.add_request_handler("tasks/update", _TaskParams, update_task)
    server.add_request_handler("tasks/result", GetTaskRequestParams, task_result)
    server.extensions[EXTENSION] = {}
    server.view = view
    server.with_view = lambda other: build_server(
        name, version=version, instructions=instructions, tools=catalog, view=other
    )
    return server


def _dumped(tool: McpTool) -> dict[str, Any]:
    return tool.model_dump(mode="json", by_alias=True, exclude_none=True)


class _Server(Server[Any]):
    """The SDK's low-level server, except that a connection that ends with calls in flight ends
    them unanswered, in one log line each.

    When the client goes away (over stdio: its end of the pipes closes), the SDK cancels the
    calls in flight (a stop-on-cancel workflow is stopped then) and answers each with a
    "Connection closed" error, which the stdio transport then writes to the closed pipe: the
    BrokenPipeError ended the process with a traceback. Nobody is there to read that answer
    (a client that is only closing learns the same from its own transport), so it is not
    sent.

    ``view`` is what it offers of its package; ``with_view`` makes the same server with
    another view (the command line's filters)."""

    view: View
    with_view: Callable[[View], Server[Any]]

    def get_capabilities(self, *args: Any, **kwargs: Any) -> ServerCapabilities:
        """The SDK's capabilities, plus 2025-11-25 Tasks: ``tools/call`` may become a task, and
        a task may be cancelled (no ``tasks/list``: the server keeps no list of tasks)."""
        capabilities = super().get_capabilities(*args, **kwargs)
        return capabilities.model_copy(
            update={
                "tasks": ServerTasksCapability(
                    cancel=TasksCancelCapability(),
                    requests=ServerTasksRequestsCapability(
                        tools=TasksToolsCapability(call=TasksCallCapability())
                    ),
                )
            }
        )

    async def run(
        self,
        read_stream: Any,
        write_stream: Any,
        initialization_options: Any,
        raise_exceptions: bool = False,
    ) -> None:
        await super().run(
            read_stream, _Unanswered(write_stream), initialization_options, raise_exceptions
        )


class _Unanswered:
    """A session's write stream that drops the SDK's answers for calls cut off by the end of
    the connection (``CONNECTION_CLOSED``, which it sends only then)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def send(self, item: Any, /) -> None:
        message = getattr(item, "message", None)
        if isinstance(message, JSONRPCError) and message.error.code == CONNECTION_CLOSED:
            logger.warning(
                "the connection ended with request %s in flight; it ends unanswered",
                str(message.id)[:40],
            )
            return
        await self._stream.send(item)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> _Unanswered:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
