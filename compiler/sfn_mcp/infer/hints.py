"""Tool annotation hints from what a definition's tasks call.

Every Task's ``Resource`` is reduced to ``service:action`` (``arn:aws:states:::aws-sdk:
dynamodb:getItem`` → ``dynamodb:getitem``, a bare Lambda ARN → ``lambda:invoke``) and looked up
in ``INTEGRATIONS``, one row per pattern, first match wins; the row says what the call does
(``Effect``). The hints follow from all of them:

- ``readOnlyHint`` true only when every task is a read-level call (and nothing else writes);
- ``destructiveHint`` false only when no task deletes, terminates, overwrites or puts, or runs
  code nobody can see (Lambda, another workflow, a container …);
- ``openWorldHint`` true when a task calls an HTTP endpoint, runs unknown code, or reaches
  another account (a Resource, ``FunctionName`` or ``Credentials.RoleArn`` whose account is not
  the machine's, or a role chosen at run time); false only when every call is a known AWS
  service of the machine's own account.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sfn_mcp.infer.asl import as_list, processor, states_of


@dataclass(frozen=True)
class Effect:
    read_only: bool  # reads and changes nothing
    destructive: bool  # deletes, terminates, overwrites, puts — or may (unknown code)
    open_world: bool  # reaches past the account's known AWS services
    receiver: str  # how notes name what receives the call ("" → the service:action)


READ = Effect(True, False, False, "")
ADD = Effect(False, False, False, "")  # writes something new: publishes, sends, creates
CHANGE = Effect(False, True, False, "")  # deletes, terminates, overwrites, puts, updates
LAMBDA = Effect(False, True, True, "Lambda")
WORKFLOW = Effect(False, True, True, "another state machine")
HTTP = Effect(False, True, True, "an HTTP endpoint")
ACTIVITY = Effect(False, True, True, "an activity worker")
JOB = Effect(False, True, True, "")  # runs code of its own: a container, a job, a query
UNKNOWN_CALL = Effect(False, True, False, "")


@dataclass(frozen=True)
class Integration:
    pattern: str  # fnmatch pattern over the lower-case "service:action"
    effect: Effect
    why: str  # finishes "state `X` …"


INTEGRATIONS: tuple[Integration, ...] = (
    # unknown code: whatever it does cannot be seen from the definition
    Integration("lambda:invoke", LAMBDA, "invokes a Lambda function, unknown code"),
    Integration("states:startexecution", WORKFLOW, "starts another state machine"),
    Integration("http:invoke", HTTP, "calls an HTTP endpoint"),
    Integration("apigateway:invoke", HTTP, "calls an API Gateway endpoint"),
    Integration("activity:*", ACTIVITY, "waits for an activity worker, unknown code"),
    Integration("ecs:runtask", JOB, "runs an ECS task"),
    Integration("batch:submitjob", JOB, "submits a Batch job"),
    Integration("glue:startjobrun", JOB, "runs a Glue job"),
    Integration("codebuild:startbuild*", JOB, "runs a CodeBuild build"),
    Integration("eks:runjob", JOB, "runs an EKS job"),
    Integration("eks:call", JOB, "calls the Kubernetes API"),
    Integration("emr*:*", JOB, "runs an EMR workload"),
    Integration("sagemaker:create*job", JOB, "runs a SageMaker job"),
    Integration("athena:startqueryexecution", JOB, "runs an Athena query"),
    Integration("glue:startcrawler", JOB, "runs a Glue crawler"),
    Integration("databrew:startjobrun", JOB, "runs a DataBrew job"),
    Integration("mediaconvert:createjob", ADD, "creates a MediaConvert job"),
    # known calls whose names would say otherwise
    Integration("events:putevents", ADD, "publishes events"),
    Integration("firehose:putrecord*", ADD, "appends records to a Firehose stream"),
    Integration("kinesis:putrecord*", ADD, "appends records to a Kinesis stream"),
    Integration("cloudwatch:putmetricdata", ADD, "publishes metrics"),
    Integration("bedrock:invokemodel*", READ, "invokes a Bedrock model"),
    Integration("bedrock:converse*", READ, "converses with a Bedrock model"),
    Integration("comprehend:detect*", READ, "analyses text with Comprehend"),
    Integration("textract:analyze*", READ, "analyses a document with Textract"),
    Integration("textract:detect*", READ, "analyses a document with Textract"),
    Integration("rekognition:detect*", READ, "analyses an image with Rekognition"),
    Integration("translate:translatetext", READ, "translates text"),
    Integration("dynamodb:getitem", READ, "reads a DynamoDB item"),
    Integration("dynamodb:putitem", CHANGE, "puts a DynamoDB item (overwrites)"),
    Integration("dynamodb:updateitem", CHANGE, "updates a DynamoDB item"),
    Integration("dynamodb:deleteitem", CHANGE, "deletes a DynamoDB item"),
    Integration("dynamodb:executestatement", UNKNOWN_CALL, "runs a PartiQL statement"),
    Integration("dynamodb:transactwriteitems", CHANGE, "writes DynamoDB items"),
    Integration("dynamodb:batchwriteitem", CHANGE, "writes DynamoDB items"),
    Integration("s3:copyobject", CHANGE, "copies an S3 object (overwrites)"),
    # by verb, for any service
    Integration("*:get*", READ, "reads ({call})"),
    Integration("*:describe*", READ, "reads ({call})"),
    Integration("*:list*", READ, "reads ({call})"),
    Integration("*:head*", READ, "reads ({call})"),
    Integration("*:query", READ, "reads ({call})"),
    Integration("*:scan", READ, "reads ({call})"),
    Integration("*:batchget*", READ, "reads ({call})"),
    Integration("*:search*", READ, "reads ({call})"),
    Integration("*:select*", READ, "reads ({call})"),
    Integration("*:delete*", CHANGE, "deletes ({call})"),
    Integration("*:terminate*", CHANGE, "terminates ({call})"),
    Integration("*:remove*", CHANGE, "removes ({call})"),
    Integration("*:put*", CHANGE, "puts, overwriting ({call})"),
    Integration("*:update*", CHANGE, "updates ({call})"),
    Integration("*:purge*", CHANGE, "purges ({call})"),
    Integration("*:destroy*", CHANGE, "destroys ({call})"),
    Integration("*:replace*", CHANGE, "replaces ({call})"),
    Integration("*:stop*", CHANGE, "stops ({call})"),
    Integration("*:create*", ADD, "creates ({call})"),
    Integration("*:send*", ADD, "sends ({call})"),
    Integration("*:publish*", ADD, "publishes ({call})"),
    Integration("*:start*", ADD, "starts ({call})"),
    Integration("*:tag*", ADD, "tags ({call})"),
    Integration("*:*", UNKNOWN_CALL, "makes a call not known to be safe ({call})"),
)

UNRECOGNISED = Integration("", JOB, "calls a resource that is not an ARN sfn-mcp recognises")

_OPTIMISED = re.compile(r"^arn:[^:]+:states:::(?:aws-sdk:)?([^:]+):([^.:]+)")
_LAMBDA = re.compile(r"^arn:[^:]+:lambda:[^:]*:([0-9]*):function:")
_ACTIVITY = re.compile(r"^arn:[^:]+:states:[^:]*:([0-9]*):activity:(.+)$")
_ACCOUNT = re.compile(r"^arn:[^:]+:[^:]*:[^:]*:([0-9]{12}):")


@dataclass(frozen=True)
class Call:
    """One task's resource, reduced."""

    key: str  # lower-case service:action ("" when unrecognised)
    call: str  # as written: dynamodb:getItem
    account: str  # the account named in the resource, "" when none


def reduce_resource(resource: str) -> Call:
    match = _OPTIMISED.match(resource)
    if match:
        service, action = match.group(1), match.group(2)
        return Call(f"{service}:{action}".lower(), f"{service}:{action}", "")
    match = _LAMBDA.match(resource)
    if match:
        return Call("lambda:invoke", "lambda:invoke", match.group(1))
    match = _ACTIVITY.match(resource)
    if match:
        return Call(f"activity:{match.group(2)}".lower(), "activity", match.group(1))
    return Call("", resource, "")


def integration_for(key: str) -> Integration:
    if not key:
        return UNRECOGNISED
    for row in INTEGRATIONS:
        if fnmatch.fnmatchcase(key, row.pattern):
            return row
    return UNRECOGNISED


def describe_resource(resource: object) -> str:
    """How a note names what a task hands its input to."""
    if not isinstance(resource, str):
        return "its resource"
    call = reduce_resource(resource)
    row = integration_for(call.key)
    return row.effect.receiver or f"`{call.call}`"


# -- hints ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    value: bool
    reason: str  # one line


@dataclass(frozen=True)
class HintInference:
    read_only: Hint  # readOnlyHint
    destructive: Hint  # destructiveHint
    open_world: Hint  # openWorldHint

    def annotations(self) -> dict[str, bool]:
        return {
            "readOnlyHint": self.read_only.value,
            "destructiveHint": self.destructive.value,
            "openWorldHint": self.open_world.value,
        }

    def to_json(self) -> dict[str, dict[str, bool | str]]:
        return {
            name: {"value": hint.value, "reason": hint.reason}
            for name, hint in (
                ("readOnlyHint", self.read_only),
                ("destructiveHint", self.destructive),
                ("openWorldHint", self.open_world),
            )
        }


@dataclass(frozen=True)
class _Task:
    state: str
    resource: str
    call: Call
    row: Integration
    role: str | None  # Credentials.RoleArn as written, "" when chosen at run time, None: none
    function_account: str  # the account of a FunctionName ARN, "" when none

    @property
    def why(self) -> str:
        return self.row.why.format(call=f"`{self.call.call}`")


def _tasks(scope: Any) -> Iterator[_Task]:
    states, _ = states_of(scope)
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        kind = state.get("Type")
        if kind == "Task":
            resource = state.get("Resource")
            text = resource if isinstance(resource, str) else json.dumps(resource)
            call = reduce_resource(text)
            yield _Task(
                str(name),
                text,
                call,
                integration_for(call.key),
                _role(state.get("Credentials")),
                _function_account(state),
            )
        elif kind == "Parallel":
            for branch in as_list(state.get("Branches")):
                yield from _tasks(branch)
        elif kind == "Map":
            yield from _tasks(processor(state))
            reader = state.get("ItemReader")
            if isinstance(reader, dict) and isinstance(reader.get("Resource"), str):
                call = reduce_resource(reader["Resource"])
                yield _Task(
                    str(name), reader["Resource"], call, integration_for(call.key), None, ""
                )
            writer = state.get("ResultWriter")
            if isinstance(writer, dict) and isinstance(writer.get("Resource"), str):
                row = Integration("", CHANGE, "writes its results to S3 (ResultWriter)")
                yield _Task(
                    str(name),
                    writer["Resource"],
                    reduce_resource(writer["Resource"]),
                    row,
                    None,
                    "",
                )


def _role(credentials: object) -> str | None:
    if not isinstance(credentials, dict):
        return None
    role = credentials.get("RoleArn")
    if isinstance(role, str) and not role.startswith("{%"):
        return role
    return ""  # RoleArn.$ or a JSONata expression: chosen at run time


def _function_account(state: dict[str, Any]) -> str:
    for field in ("Parameters", "Arguments"):
        arguments = state.get(field)
        if isinstance(arguments, dict):
            name = arguments.get("FunctionName")
            if isinstance(name, str):
                match = _LAMBDA.match(name) or re.match(r"^([0-9]{12}):function:", name)
                if match:
                    return match.group(1)
    return ""


def _account_of(arn: str | None) -> str:
    if not arn:
        return ""
    match = _ACCOUNT.match(arn)
    return match.group(1) if match else ""


def _named(tasks: list[_Task], one: str, several: str) -> str:
    first = tasks[0]
    text = f"state `{first.state}` {first.why}"
    count = len(tasks) - 1
    if count == 1:
        text += f"; 1 more task {one}"
    elif count > 1:
        text += f"; {count} more tasks {several}"
    return text


def infer_hints(definition: str, machine_arn: str | None = None) -> HintInference:
    """The annotation hints a definition's tasks justify, each with a one-line reason.

    ``machine_arn`` (the state machine's own ARN) lets a task in another account be told
    apart; without it, only a role assumed at run time or a resource naming an account
    counts as possibly elsewhere."""
    try:
        document = json.loads(definition)
    except (TypeError, ValueError):
        document = {}
    tasks = list(_tasks(document))
    own = _account_of(machine_arn)

    if not tasks:
        nothing = "no state calls a service: the workflow only reshapes its input"
        return HintInference(Hint(True, nothing), Hint(False, nothing), Hint(False, nothing))

    writers = [t for t in tasks if not t.row.effect.read_only]
    if writers:
        read_only = Hint(
            False, _named(writers, "is not read-only either", "are not read-only either")
        )
    else:
        calls = list(dict.fromkeys(f"`{t.call.call}`" for t in tasks))
        read_only = Hint(True, f"every task only reads ({', '.join(calls)})")

    changers = [t for t in tasks if t.row.effect.destructive]
    if changers:
        destructive = Hint(True, _named(changers, "may change data too", "may change data too"))
    else:
        destructive = Hint(False, "no task deletes, terminates, overwrites or puts")

    open_world = _open_world(tasks, own)
    return HintInference(read_only, destructive, open_world)


def _open_world(tasks: list[_Task], own: str) -> Hint:
    for task in tasks:
        if task.row.effect.open_world:
            return Hint(True, f"state `{task.state}` {task.why}")
    for task in tasks:
        if task.role == "":
            return Hint(True, f"state `{task.state}` assumes a role chosen at run time")
        role_account = _account_of(task.role)
        for account, what in (
            (task.call.account, "its resource"),
            (task.function_account, "its function"),
            (role_account, "the role it assumes"),
        ):
            if account and own and account != own:
                return Hint(
                    True, f"state `{task.state}`: {what} is in account {account}, not {own}"
                )
        if task.role and not own:
            return Hint(
                True,
                f"state `{task.state}` assumes role {task.role} (no machine ARN to compare its "
                "account with)",
            )
    return Hint(False, "every task calls a known AWS service in the machine's own account")
