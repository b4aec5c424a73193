"""The local AWS control: idempotent start, the env file, clean stop, converging re-seed."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import localaws.stack as stack_module
from localaws.seed import EXAMPLES_DIR, SeedError
from localaws.stack import (
    MINISTACK,
    REPO_ROOT,
    LocalAws,
    LocalAwsError,
    live_processes,
    quiet,
    read_env_file,
    running_pid,
    stop,
)

TRIAGE = "ai-workflows-support-triage"
ORDERS = "ai-workflows-order-processing"
TAG = "input-schema-arn"


def group_members(pgid: int) -> set[int]:
    """Live (non-zombie) processes in a process group."""
    return {pid for pid, _, group in live_processes() if group == pgid}


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localaws", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def unchanged_only(stack: LocalAws) -> bool:
    assert stack.seed_report is not None
    return all(set(counts) == {"unchanged"} for counts in stack.seed_report.actions.values())


# --- a seeded stack of this module's own --------------------------------------------------------
# These tests change schemas and definitions (new schema versions stay behind), so they must not
# run against the session stack other tests generate code from.


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    stack = LocalAws.start(tmp_path_factory.mktemp("own-stack"), 0, 0, log=quiet)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.mark.integration
def test_start_twice_reuses_the_running_processes(own_stack: LocalAws) -> None:
    again = LocalAws.start(own_stack.state_dir, sfn_port=0, schemas_port=0, log=quiet)
    assert again.pids == own_stack.pids
    assert (again.sfn_port, again.schemas_port) == (own_stack.sfn_port, own_stack.schemas_port)
    assert unchanged_only(again), again.seed_report


def test_env_file_points_at_the_local_aws(local_aws: LocalAws) -> None:
    text = local_aws.env_file.read_text()
    assert all(line.startswith("export ") for line in text.splitlines())
    assert "AWS_DISABLE_HOST_PREFIX_INJECTION" not in text
    expected = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{local_aws.sfn_port}",
        "AWS_ENDPOINT_URL_SCHEMAS": f"http://127.0.0.1:{local_aws.schemas_port}",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    assert read_env_file(local_aws.env_file) == expected == local_aws.env
    # A shell can source it.
    shell = subprocess.run(
        ["bash", "-c", f'. "{local_aws.env_file}" && env'],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ.get("PATH", "")},
    )
    sourced = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    assert {key: sourced[key] for key in expected} == expected


@pytest.mark.integration
def test_reseed_repairs_drift(own_stack: LocalAws) -> None:
    sfn = own_stack.client("stepfunctions")
    schemas = own_stack.client("schemas")
    lam = own_stack.client("lambda")
    triage = own_stack.machine_arn(TRIAGE)
    orders = own_stack.machine_arn(ORDERS)
    original = sfn.describe_state_machine(stateMachineArn=triage)["definition"]
    drifted = {"Comment": "drifted", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    sfn.update_state_machine(stateMachineArn=triage, definition=json.dumps(drifted))
    sfn.untag_resource(resourceArn=orders, tagKeys=[TAG])
    sfn.tag_resource(resourceArn=orders, tags=[{"key": "stray", "value": "x"}])
    schemas.update_schema(
        RegistryName="ai-workflows",
        SchemaName="DailyEtlRequest",
        Type="JSONSchemaDraft4",
        Content=json.dumps({"type": "object"}),
    )
    lam.update_function_configuration(FunctionName="ai-workflows-price-order", Timeout=3)

    report = own_stack.seed(log=quiet)

    assert report.actions["workflows"]["updated"] == 2
    assert report.actions["schemas"]["updated"] == 1
    assert report.actions["functions"]["updated"] == 1
    assert json.loads(sfn.describe_state_machine(stateMachineArn=triage)["definition"]) == (
        json.loads(original)
    )
    tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=orders)["tags"]}
    assert "stray" not in tags
    assert tags[TAG] == report.schemas["com.example.shop@OrderPlaced"]
    content = schemas.describe_schema(RegistryName="ai-workflows", SchemaName="DailyEtlRequest")
    assert json.loads(content["Content"])["title"] == "DailyEtlRequest"
    assert lam.get_function_configuration(FunctionName="ai-workflows-price-order")["Timeout"] == 30
    own_stack.seed(log=quiet)
    assert unchanged_only(own_stack)


@pytest.mark.integration
def test_reseed_applies_a_changed_example(own_stack: LocalAws, tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES_DIR, examples)
    definition_path = examples / "support-triage" / "definition.asl.json"
    definition = json.loads(definition_path.read_text())
    definition["Comment"] = "Triage v2: " + definition["Comment"]
    definition_path.write_text(json.dumps(definition))
    template_path = examples / "template.yaml"
    template = template_path.read_text()
    described_date = "Business date to process, as YYYY-MM-DD, e.g. 2026-11-20."
    assert template.count(described_date) == 1
    template_path.write_text(template.replace(described_date, "Changed description."))
    sfn = own_stack.client("stepfunctions")
    schemas = own_stack.client("schemas")
    try:
        report = own_stack.seed(examples, log=quiet)
        assert dict(report.actions["workflows"]) == {"updated": 1, "unchanged": 3}
        assert dict(report.actions["schemas"]) == {"updated": 1, "unchanged": 3}
        described = sfn.describe_state_machine(stateMachineArn=own_stack.machine_arn(TRIAGE))
        assert json.loads(described["definition"])["Comment"].startswith("Triage v2: ")
        latest = schemas.describe_schema(RegistryName="ai-workflows", SchemaName="DailyEtlRequest")
        assert "Changed description." in latest["Content"]
        assert int(latest["SchemaVersion"]) >= 2
    finally:
        own_stack.seed(log=quiet)
    described = sfn.describe_state_machine(stateMachineArn=own_stack.machine_arn(TRIAGE))
    assert not json.loads(described["definition"])["Comment"].startswith("Triage v2: ")


# --- stacks of their own -----------------------------------------------------------------------


@pytest.mark.integration
def test_a_failed_seed_stops_the_servers_that_start_launched(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES_DIR, examples)
    (examples / "template.yaml").write_text("Resources: [not, a, mapping\n")
    state = tmp_path / "state"
    with pytest.raises(SeedError):  # the seed's error reaches the caller
        LocalAws.start(state, sfn_port=0, schemas_port=0, examples_dir=examples, log=quiet)
    assert not list(state.glob("*.pid"))  # both servers were stopped, their pid files gone
    assert stop(state, log=quiet) == []  # nothing of ours left to stop


@pytest.mark.integration
def test_stop_ends_every_process_of_ours(tmp_path: Path) -> None:
    stack = LocalAws.start(tmp_path / "state", sfn_port=0, schemas_port=0, seed=False, log=quiet)
    try:
        # A Lambda invocation leaves a warm worker process behind in ministack's group.
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return {'ok': True}\n")
        lam = stack.client("lambda")
        lam.create_function(
            FunctionName="probe",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/probe",
            Handler="app.handler",
            Code={"ZipFile": code.getvalue()},
        )
        assert json.loads(lam.invoke(FunctionName="probe")["Payload"].read()) == {"ok": True}
        ministack_pid = stack.pids["ministack"]
        ours = group_members(ministack_pid) | group_members(stack.pids["schema-registry"])
        assert len(group_members(ministack_pid)) >= 2  # ministack and its Lambda worker
        assert any(
            p.name.startswith("ministack-lambda-") for p in (stack.state_dir / "tmp").iterdir()
        )
    finally:
        stopped = stack.stop()
    assert len(stopped) == 2
    assert not [pid for pid in ours if alive(pid)]
    assert not group_members(ministack_pid) and not group_members(stack.pids["schema-registry"])
    assert not list(stack.state_dir.glob("*.pid"))
    assert not stack.env_file.exists()
    assert not (stack.state_dir / "tmp").exists()  # the leaked Lambda temp folders went too
    assert stop(stack.state_dir, log=quiet) == []


@pytest.mark.integration
def test_cli_start_is_idempotent_and_stop_is_clean(tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = ["--state-dir", str(state)]
    first = run_cli("start", *args, "--sfn-port", "0", "--schemas-port", "0", "--no-seed")
    try:
        assert first.returncode == 0, first.stderr
        assert "ministack ready on 127.0.0.1:" in first.stderr
        pids = {path.name: path.read_text() for path in state.glob("*.pid")}
        assert set(pids) == {"ministack.pid", "schema-registry.pid"}
        second = run_cli("start", *args, "--no-seed")
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr
        assert {path.name: path.read_text() for path in state.glob("*.pid")} == pids
        env = run_cli("env", *args)
        assert env.returncode == 0
        assert env.stdout == (state / "env").read_text()
    finally:
        stopped = run_cli("stop", *args)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped ministack" in stopped.stderr and "stopped schema-registry" in stopped.stderr
    for pid in pids.values():
        assert not group_members(int(pid))
    again = run_cli("stop", *args)
    assert again.returncode == 0 and "nothing to stop" in again.stderr


def test_a_busy_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LocalAwsError, match=rf"port {port} .*in use.*--sfn-port"):
            LocalAws.start(tmp_path, sfn_port=port, schemas_port=0, seed=False, log=quiet)
    assert running_pid(tmp_path, MINISTACK) is None


def test_stop_never_signals_a_process_that_is_not_ours(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        (tmp_path / "ministack.pid").write_text(f"{stranger.pid}\n")
        messages = stop(tmp_path, log=quiet)
        assert stranger.poll() is None
        assert "not running" in messages[0]
        assert not (tmp_path / "ministack.pid").exists()
    finally:
        os.killpg(stranger.pid, signal.SIGKILL)
        stranger.wait()


def test_a_missing_ministack_virtualenv_says_how_to_create_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack_module, "MINISTACK_PYTHON", tmp_path / "no-such-python")
    with pytest.raises(LocalAwsError, match=r"make \.venv-ministack/\.installed"):
        LocalAws.start(tmp_path / "state", sfn_port=0, schemas_port=0, seed=False, log=quiet)
    assert not list((tmp_path / "state").glob("*.pid"))


def test_a_server_that_dies_at_start_points_to_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "ministack"
    fake.write_text("#!/bin/sh\necho 'boom: cannot start' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(stack_module, "MINISTACK_PYTHON", fake)
    state = tmp_path / "state"
    with pytest.raises(LocalAwsError) as raised:
        LocalAws.start(state, sfn_port=0, schemas_port=0, seed=False, log=quiet)
    message = str(raised.value)
    assert "exited with status 3" in message
    assert str(state / "ministack.log") in message and "boom: cannot start" in message
    assert not list(state.glob("*.pid"))


def test_attach_without_a_running_stack_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(LocalAwsError, match="python -m localaws start"):
        LocalAws.attach(tmp_path)


# --- callback tasks: what localaws/ministack_launcher.py adds to ministack ----------------------
# A machine of their own in a stack of their own (no seeding): the tests create functions and
# machines that no other test should see.

CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"
ROLE = "arn:aws:iam::000000000000:role/callback"


def callback_machine(jsonata: bool, **task_fields: int) -> dict[str, object]:
    """A one-state machine whose Task hands the task token to a Lambda function and waits."""
    if jsonata:
        task: dict[str, object] = {
            "Arguments": {
                "FunctionName": "notify",
                "Payload": {
                    "token": "{% $states.context.Task.Token %}",
                    "order": "{% $states.input.order %}",
                },
            }
        }
    else:
        task = {
            "Parameters": {
                "FunctionName": "notify",
                "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"},
            }
        }
    state = {"Type": "Task", "Resource": CALLBACK, **task, **task_fields, "End": True}
    machine: dict[str, object] = {"StartAt": "Wait", "States": {"Wait": state}}
    if jsonata:
        machine["QueryLanguage"] = "JSONata"
    return machine


@pytest.fixture(scope="module")
def callback_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    stack = LocalAws.start(tmp_path_factory.mktemp("callback-stack"), 0, 0, seed=False, log=quiet)
    try:
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return {'sent': True}\n")
        stack.client("lambda").create_function(
            FunctionName="notify",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": code.getvalue()},
        )
        yield stack
    finally:
        stack.stop()


class Waiting:
    """An execution that waits at its callback task, and the TaskScheduled event AWS records."""

    def __init__(self, stack: LocalAws, name: str, machine: dict[str, object]) -> None:
        self.sfn = stack.client("stepfunctions")
        arn = self.sfn.create_state_machine(
            name=name, definition=json.dumps(machine), roleArn=ROLE
        )["stateMachineArn"]
        self.arn = self.sfn.start_execution(stateMachineArn=arn, input='{"order": 7}')[
            "executionArn"
        ]
        self.details = self._scheduled()
        self.parameters = json.loads(str(self.details["parameters"]))
        self.token: str = self.parameters["Payload"]["token"]

    def history(self) -> list[dict[str, object]]:
        events: list[dict[str, object]] = self.sfn.get_execution_history(
            executionArn=self.arn, maxResults=1000
        )["events"]
        return events

    def _scheduled(self) -> dict[str, object]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for event in self.history():
                if event["type"] == "TaskScheduled":
                    details = event["taskScheduledEventDetails"]
                    assert isinstance(details, dict)
                    return details
            time.sleep(0.05)
        raise AssertionError(f"{self.arn} never reached its Task state")

    def ended(self, timeout: float = 30) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, object] = self.sfn.describe_execution(executionArn=self.arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.05)


@pytest.mark.integration
@pytest.mark.parametrize("jsonata", [False, True], ids=["jsonpath", "jsonata"])
def test_the_task_token_is_in_the_scheduled_parameters_and_success_ends_the_execution(
    callback_stack: LocalAws, jsonata: bool
) -> None:
    waiting = Waiting(callback_stack, f"callback-success-{jsonata}", callback_machine(jsonata))
    assert waiting.details["resourceType"] == "lambda"
    assert waiting.details["resource"] == "invoke.waitForTaskToken"
    assert waiting.details["region"] == "us-east-1"
    assert waiting.parameters == {
        "FunctionName": "notify",
        "Payload": {"token": waiting.token, "order": 7},
    }
    assert waiting.token
    time.sleep(0.3)
    assert waiting.sfn.describe_execution(executionArn=waiting.arn)["status"] == "RUNNING"

    waiting.sfn.send_task_success(taskToken=waiting.token, output='{"approved": true}')
    described = waiting.ended()
    assert described["status"] == "SUCCEEDED"
    assert json.loads(str(described["output"])) == {"approved": True}
    # The task is over: its token now answers TaskTimedOut, as on AWS.
    with pytest.raises(waiting.sfn.exceptions.TaskTimedOut):
        waiting.sfn.send_task_success(taskToken=waiting.token, output="{}")


@pytest.mark.integration
def test_send_task_failure_fails_the_execution_with_its_error_and_cause(
    callback_stack: LocalAws,
) -> None:
    waiting = Waiting(callback_stack, "callback-failure", callback_machine(False))
    waiting.sfn.send_task_failure(
        taskToken=waiting.token, error="Order.Rejected", cause="out of stock"
    )
    described = waiting.ended()
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("Order.Rejected", "out of stock")


@pytest.mark.integration
def test_a_wrong_token_is_refused_and_the_execution_keeps_waiting(
    callback_stack: LocalAws,
) -> None:
    waiting = Waiting(callback_stack, "callback-wrong-token", callback_machine(False))
    sfn = waiting.sfn
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="not-a-token", output="{}")
    with pytest.raises(sfn.exceptions.TaskDoesNotExist):
        sfn.send_task_failure(taskToken="00000000-0000-4000-8000-000000000000", error="X")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_heartbeat(taskToken=waiting.token + "x")
    assert sfn.describe_execution(executionArn=waiting.arn)["status"] == "RUNNING"
    sfn.send_task_heartbeat(taskToken=waiting.token)  # the right one is accepted
    sfn.send_task_success(taskToken=waiting.token, output='{"late": false}')
    assert waiting.ended()["status"] == "SUCCEEDED"


@pytest.mark.integration
def test_a_missed_heartbeat_fails_the_task(callback_stack: LocalAws) -> None:
    waiting = Waiting(
        callback_stack, "callback-heartbeat", callback_machine(False, HeartbeatSeconds=1)
    )
    assert waiting.details["heartbeatInSeconds"] == 1
    described = waiting.ended(timeout=15)
    assert (described["status"], described["error"]) == ("FAILED", "States.HeartbeatTimeout")


@pytest.mark.integration
def test_stopping_an_execution_at_a_callback_task_closes_the_task(
    callback_stack: LocalAws,
) -> None:
    waiting = Waiting(callback_stack, "callback-stop", callback_machine(False, TimeoutSeconds=2))
    assert waiting.details["timeoutInSeconds"] == 2
    waiting.sfn.stop_execution(executionArn=waiting.arn, error="Cancelled", cause="by the user")
    with pytest.raises(waiting.sfn.exceptions.TaskTimedOut):
        waiting.sfn.send_task_success(taskToken=waiting.token, output="{}")
    time.sleep(2.5)  # past TimeoutSeconds: the stopped task must not time out into FAILED
    described = waiting.sfn.describe_execution(executionArn=waiting.arn)
    assert (described["status"], described["error"]) == ("ABORTED", "Cancelled")
    assert waiting.history()[-1]["type"] == "ExecutionAborted"


def test_the_launcher_refuses_a_ministack_of_another_shape(tmp_path: Path) -> None:
    python = REPO_ROOT / ".venv-ministack" / "bin" / "python"
    if not python.exists():
        pytest.skip("no .venv-ministack")
    fake = tmp_path / "ministack" / "services"
    fake.mkdir(parents=True)
    (tmp_path / "ministack" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "stepfunctions.py").write_text(
        "def _execute_task(state_def, raw_input, execution, ctx):\n    return None\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONPATH"] = str(tmp_path)  # the fake package comes before the real one
    launched = subprocess.run(
        [str(python), str(stack_module.MINISTACK_LAUNCHER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert launched.returncode == 3
    assert "cannot patch ministack" in launched.stderr
    assert "_invoke_with_callback() is missing" in launched.stderr
    assert "TaskScheduled call 0 times" in launched.stderr
