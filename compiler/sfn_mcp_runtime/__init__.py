"""Runtime shared by every MCP server that sfn-mcp generates.

sfn-mcp copies the modules of this package unchanged into each generated package as its
subpackage ``_runtime``; they import only the standard library, ``mcp``, ``pydantic``,
``jsonschema``, ``anyio`` and ``boto3`` (``uvicorn`` for HTTP, ``jwt`` for OAuth), and one another
only by relative
imports, so a generated server runs without the compiler installed. One concern per module, each
importing only modules listed before it:

* ``contract``: what the compiler and the servers agree on (names, limits, defaults, ``Hints``);
  standard library only, so the compiler reads it without loading the MCP SDK;
* ``definitions``: what a tool *is*: ``Workflow``, ``Tool``, ``ExecutionResult``,
  ``WorkflowError``, ``FreeFormInput`` and the input and result schemas;
* ``aws``: boto3 clients per region and purpose, the worker threads of AWS calls, and AWS errors
  as ``WorkflowError``;
* ``execution``: what running a workflow *does*: start, idempotency lookup, polling with
  progress, stop on cancel, and ``get_execution``'s status reads;
* ``validation``: arguments checked before any AWS call, and the messages that say what is wrong;
* ``server``: what the server *serves*: the tools and ``get_execution`` over the low-level MCP
  ``Server``, and each call's result;
* ``transport``: the command line of a generated server (stdio or streamable HTTP), Host and
  Origin checks, the bearer token, session limits and logging;
* ``oauth``: JWT access tokens for OAuth resource-server mode.

Together they:

* serve the tools over MCP with the low-level ``Server``, so each tool's ``inputSchema`` is the
  workflow input's own JSON Schema (no wrapper key), and validate arguments before any AWS call;
* run EXPRESS workflows with StartSyncExecution in a worker thread, never retried (a retried
  StartSyncExecution starts a second execution);
* run STANDARD workflows with StartExecution, then poll DescribeExecution with backoff up to a
  bounded wait, sending progress notifications (with the current state's name) when the client
  asked for them, and return RUNNING and the execution ARN if the workflow is still going;
* take an optional ``idempotency_key`` on STANDARD tools: it becomes the execution name, so a
  retried call finds the execution the first call started instead of starting another;
* stop polling when the client cancels a call, and stop the execution too where the workflow
  says ``stop_on_cancel``;
* serve ``get_execution``, which follows up an execution of this server's own state machines
  (and refuses any other ARN);
* publish an ``outputSchema`` per tool and return matching ``structuredContent``; where the
  workflow's output is typed, a SUCCEEDED output that does not match is an error, not data;
* turn FAILED / TIMED_OUT / ABORTED executions and AWS errors into ``isError`` results that say
  what happened and what to do, and answers that lack what the API guarantees into errors;
* keep arguments within Step Functions' size (256 KiB) and a depth of 64 before any expensive
  check, and send any workflow output as valid JSON and UTF-8;
* start executions through a target alias or version where one was compiled, and refuse a target
  whose definition moved when ``SFN_MCP_VERIFY_TARGETS`` is set.

Environment: the usual boto3 variables (``AWS_PROFILE``, credentials, ``AWS_ENDPOINT_URL`` …), plus
``SFN_MCP_MAX_WAIT_SECONDS`` (overrides every STANDARD workflow's bounded wait),
``SFN_MCP_LOG_LEVEL`` (default ``WARNING``; logs go to stderr), ``SFN_MCP_HTTP_TOKEN`` (HTTP
requests must carry ``Authorization: Bearer <token>``), ``SFN_MCP_OAUTH_ISSUER`` and
``SFN_MCP_RESOURCE_URL`` (OAuth mode) and ``SFN_MCP_VERIFY_TARGETS``.
"""
