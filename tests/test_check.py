"""`sfn-mcp check` and `sfn-mcp diff` against the local AWS: a schema changes in the Schema
Registry, the committed package goes stale, the check names the tool and the field, the diff calls
it breaking, and regenerating makes the check pass again. Plus the offline check of hand edits."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROLE, generate, sfn_mcp

pytestmark = pytest.mark.integration

REGISTRY = "ai-workflows"
SCHEMA = "RefundRequest"
REFUND = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": SCHEMA,
    "type": "object",
    "required": ["orderId", "amount", "reason"],
    "properties": {
        "orderId": {"type": "string", "pattern": "^ORD-[0-9]+$"},
        "amount": {"type": "number", "minimum": 0},
        "reason": {"type": "string", "enum": ["damaged", "late", "other"]},
        "note": {"type": "string", "maxLength": 200},
    },
}
SELECT = ("--prefix", "sfn-check-", "--name", "refund_tools")


@pytest.fixture(scope="module")
def env(local_aws: Any) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STATE_MACHINE_"))}
    return base | dict(local_aws.env)


@pytest.fixture(scope="module")
def refund_machine(local_aws: Any) -> Any:
    """A test-only STANDARD machine whose input schema lives in the local Schema Registry."""
    schemas = local_aws.client("schemas")
    arn = schemas.create_schema(
        RegistryName=REGISTRY, SchemaName=SCHEMA, Type="JSONSchemaDraft4",
        Content=json.dumps(REFUND),
    )["SchemaArn"]  # fmt: skip
    definition = {"StartAt": "Refund", "States": {"Refund": {"Type": "Pass", "End": True}}}
    local_aws.client("stepfunctions").create_state_machine(
        name="sfn-check-refund",
        definition=json.dumps(definition),
        roleArn=ROLE,
        tags=[{"key": "input-schema-arn", "value": arn}],
    )
    return schemas


def publish(schemas: Any, document: dict[str, Any]) -> None:
    schemas.update_schema(
        RegistryName=REGISTRY, SchemaName=SCHEMA, Type="JSONSchemaDraft4",
        Content=json.dumps(document),
    )  # fmt: skip


def test_check_fails_on_a_changed_schema_and_passes_after_generate(
    env: dict[str, str], refund_machine: Any, tmp_path: Path
) -> None:
    out = tmp_path / "committed"
    generate(env, out, *SELECT)
    fresh = sfn_mcp(env, "check", *SELECT, "-o", str(out))
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "is up to date (1 workflow tool(s))" in fresh.stdout

    narrowed = json.loads(json.dumps(REFUND))
    narrowed["required"].append("note")  # a required field added
    narrowed["properties"].pop("reason")  # a required field removed
    narrowed["required"].remove("reason")
    publish(refund_machine, narrowed)
    try:
        stale = sfn_mcp(env, "check", *SELECT, "-o", str(out))
        assert stale.returncode == 1, stale.stdout + stale.stderr
        assert "refund_tools is stale" in stale.stdout
        assert "refund: 2 breaking" in stale.stdout
        assert "input.reason: removed" in stale.stdout
        assert "input.note" in stale.stdout and "[field-now-required]" in stale.stdout
        assert "changed: surface.json" in stale.stdout
        assert "To fix: run `sfn-mcp generate`" in stale.stdout
        assert not list(out.glob("**/*.tmp*"))  # check writes nothing

        before = tmp_path / "before"
        shutil.copytree(out / "refund_tools", before)
        generate(env, out, *SELECT)
        diff = sfn_mcp(env, "diff", str(before), str(out / "refund_tools"), "--fail-on", "breaking")
        assert diff.returncode == 1, diff.stdout + diff.stderr
        assert "input.reason" in diff.stdout and "breaking" in diff.stdout
        markdown = sfn_mcp(env, "diff", str(before), str(out / "refund_tools"),
                           "--format", "markdown")  # fmt: skip
        assert markdown.returncode == 0
        assert "| " in markdown.stdout and "`input.reason`" in markdown.stdout

        again = sfn_mcp(env, "check", *SELECT, "-o", str(out))
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        publish(refund_machine, REFUND)


def test_check_against_the_account_names_the_tools_whose_deployed_definition_moved(
    env: dict[str, str], refund_machine: Any, local_aws: Any, tmp_path: Path
) -> None:
    out = tmp_path / "reviewed"
    generate(env, out, *SELECT)
    same = sfn_mcp(env, "check", "--against-account", *SELECT, "-o", str(out))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "every reviewed workflow runs as reviewed" in same.stdout

    sfn = local_aws.client("stepfunctions")
    arn = f"{ROLE.split(':iam:')[0]}:states:us-east-1:000000000000:stateMachine:sfn-check-refund"
    reviewed = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    # Formatting alone is no drift: the same definition, re-serialised.
    sfn.update_state_machine(
        stateMachineArn=arn, definition=json.dumps(json.loads(reviewed), indent=4)
    )
    try:
        reformatted = sfn_mcp(env, "check", "--against-account", *SELECT, "-o", str(out))
        assert reformatted.returncode == 0, reformatted.stdout + reformatted.stderr

        changed = {"StartAt": "Refund", "States": {"Refund": {"Type": "Succeed"}}}
        sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(changed))
        publish(refund_machine, REFUND | {"description": "v2"})
        moved = sfn_mcp(env, "check", "--against-account", *SELECT, "-o", str(out))
        assert moved.returncode == 1, moved.stdout + moved.stderr
        assert "differs from the reviewed package" in moved.stdout
        assert f"refund: the definition {arn} runs is not the reviewed one" in moved.stdout
        assert re.search(
            r"refund: input schema is \S+RefundRequest version \d+, reviewed", moved.stdout
        )
        # the same findings as data: one problem per drifted tool, no surface diff
        as_json = sfn_mcp(env, "check", "--against-account", *SELECT, "-o", str(out),
                          "--format", "json")  # fmt: skip
        assert as_json.returncode == 1, as_json.stdout + as_json.stderr
        report = json.loads(as_json.stdout)
        assert report["check"] == "against-account" and report["upToDate"] is False
        assert report["changes"] == [] and report["files"] == []
        assert {problem["tool"] for problem in report["problems"]} == {"refund"}
        for problem in report["problems"]:
            assert f"  refund: {problem['message']}\n" in moved.stdout
        assert f"To fix: {report['hint']}.\n" in moved.stdout
        github = sfn_mcp(env, "check", "--against-account", *SELECT, "-o", str(out),
                         "--format", "github")  # fmt: skip
        assert github.returncode == 1
        assert github.stdout.count("::error title=sfn-mcp check::refund: ") == len(
            report["problems"]
        )
        # --against-account writes nothing and never regenerates
        assert not list(out.glob("**/*.tmp*"))
    finally:
        sfn.update_state_machine(stateMachineArn=arn, definition=reviewed)
        publish(refund_machine, REFUND)


def test_check_errors_exit_2_with_a_hint(env: dict[str, str], tmp_path: Path) -> None:
    result = sfn_mcp(env, "check", "--prefix", "no-such-machines-", "-o", str(tmp_path))
    assert result.returncode == 2
    assert "error: no state machine" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_offline_check_catches_hand_edits_without_aws(
    env: dict[str, str], refund_machine: Any, tmp_path: Path
) -> None:
    out = tmp_path / "pkg"
    generate(env, out, *SELECT)
    no_aws = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    no_aws |= {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # any AWS call would fail
    clean = sfn_mcp(no_aws, "check", "--offline", *SELECT, "-o", str(out))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "the code matches its surface.json (1 workflow tool(s))" in clean.stdout

    tools = out / "refund_tools" / "tools.py"

    def flip(match: re.Match[str]) -> str:  # whatever the hint is, a hand edit changes it
        return f"destructive={match[1] != 'True'}"

    tools.write_text(re.sub(r"destructive=(True|False)", flip, tools.read_text()))
    runtime = out / "refund_tools" / "_runtime" / "execution.py"
    runtime.write_text(runtime.read_text() + "\n# local tweak\n")
    (out / "refund_tools" / "_runtime" / "extra.py").write_text("")
    edited = sfn_mcp(no_aws, "check", "--offline", *SELECT, "-o", str(out))
    assert edited.returncode == 1, edited.stdout + edited.stderr
    assert "refund:" in edited.stdout and "destructiveHint" in edited.stdout
    assert "_runtime/execution.py differs from this sfn-mcp's runtime" in edited.stdout
    assert "_runtime/extra.py is not part of this sfn-mcp's runtime" in edited.stdout

    tools.write_text(tools.read_text().replace("max_wait_seconds=50.0", "max_wait_seconds=5000.0"))
    waits = sfn_mcp(no_aws, "check", "--offline", *SELECT, "-o", str(out))
    assert waits.returncode == 1
    assert "refund: tools.py says maxWaitSeconds 5000.0, surface.json says 50.0" in waits.stdout

    tools.write_text("import not_a_module\n" + tools.read_text())
    broken = sfn_mcp(no_aws, "check", "--offline", *SELECT, "-o", str(out))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "does not import" in broken.stdout and "internal error" not in broken.stderr
