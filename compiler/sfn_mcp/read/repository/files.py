"""``source = "files"``: plain state machine definitions (ASL, JSON or YAML) in the repository.

Every ``[tool.sfn-mcp.workflows."<name>"]`` with a ``definition-file`` is one machine named
``<name>``, of its ``type`` (default STANDARD) and with its ``tags`` (default none); its ARN is
made from ``account``, ``region`` and ``partition``. A JSON file's text is the definition as it
is; a YAML file's is ``definition_text`` of what it holds.
"""

from __future__ import annotations

from sfn_mcp.diagnostics import CompileError, Diagnostics
from sfn_mcp.read.records import Candidate
from sfn_mcp.read.repository.found import FoundMachine, escaped, name_problem, shown
from sfn_mcp.read.repository.load import load_definition
from sfn_mcp.settings import Settings


def machine_arn(settings: Settings, name: str) -> str | None:
    if not settings.account or not settings.region:
        return None
    return (
        f"arn:{settings.partition}:states:{settings.region}:{settings.account}:stateMachine:{name}"
    )


def missing_location(settings: Settings) -> list[str]:
    return [key for key in ("account", "region") if not getattr(settings, key)]


def read_files(settings: Settings, diagnostics: Diagnostics) -> list[FoundMachine]:
    found = []
    for name, workflow in sorted(settings.workflows.items()):
        if workflow.definition_file is None:
            continue
        file = shown(workflow.definition_file, settings)
        problem = name_problem(name)
        if problem:
            diagnostics.error(
                f"[tool.sfn-mcp.workflows.{escaped(name)}]: the state machine name {problem}",
                hint="AWS refuses it (CreateStateMachine): use 1-80 letters, digits, - and _",
            )
            continue
        arn = machine_arn(settings, name)
        if arn is None:
            continue  # said once by the caller
        try:
            definition = load_definition(workflow.definition_file, "definition file", file)
        except CompileError as exc:
            diagnostics.error(
                f'[tool.sfn-mcp.workflows."{name}"] definition-file: {exc.problems[0]}',
                hint=exc.diagnostics[0].hint or exc.hint or "fix the file or its path",
            )
            continue
        found.append(
            FoundMachine(
                machine=Candidate(name, arn, workflow.type or "STANDARD"),
                tags=dict(workflow.tags or {}),
                definition=definition,
                where=f"{file} (workflow {name!r})",
            )
        )
    return found
