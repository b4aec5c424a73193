"""The first-contact path, as a new user walks it: a fresh git project with only a [project]
table, `sfn-mcp init`, `generate`, `check`, a commit, `check --offline` (from a subfolder too),
a schema change in the registry, `diff HEAD`, and the README's pre-commit hook before and after
a hand edit. Two test-only state machines on the local AWS."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localaws.stack import LocalAws

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
SFN_MCP = BIN / "sfn-mcp"
ROLE = "arn:aws:iam::000000000000:role/first-contact"
PREFIX = "first-contact-"
TAG_KEY = "input-schema-arn"
PACKAGE = "first_contact_tools"
REGISTRY = "first-contact"
SCHEMA = "RefundRequest"
REFUND: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": SCHEMA,
    "description": "Which order to refund, and why.",
    "type": "object",
    "required": ["orderId", "amount"],
    "properties": {
        "orderId": {"type": "string", "pattern": "^ORD-[0-9]+$"},
        "amount": {"type": "number", "minimum": 0},
        "note": {"type": "string", "maxLength": 200},
    },
}
INIT = ("--prefix", PREFIX, "--schema-tag-key", TAG_KEY, "--name", PACKAGE, "-o", "generated")


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(env: dict[str, str], cwd: Path, *argv: str) -> Run:
    result = subprocess.run(
        list(argv), env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )
    outcome = Run(result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in outcome.output, outcome.output
    assert "internal error" not in outcome.output, outcome.output
    return outcome


def sfn_mcp(env: dict[str, str], cwd: Path, *args: str) -> Run:
    return run(env, cwd, str(SFN_MCP), *args)


def git(env: dict[str, str], cwd: Path, *args: str) -> Run:
    done = run(env, cwd, "git", "-c", "user.name=First Contact", "-c",
               "user.email=first@example.com", "-c", "commit.gpgsign=false", *args)  # fmt: skip
    assert done.returncode == 0, done.output
    return done


def pre_commit_entry() -> list[str]:
    """The `entry` of the README's .pre-commit-config.yaml code block, as argv."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n# \.pre-commit-config\.yaml\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md has no .pre-commit-config.yaml code block"
    entry = re.search(r"^\s*entry:\s*(.+?)\s*$", block.group(1), re.MULTILINE)
    assert entry, block.group(1)
    return shlex.split(entry.group(1))


@pytest.fixture(scope="module")
def env(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STATE_MACHINE_"))}
    home = tmp_path_factory.mktemp("home")  # no user git configuration or hooks
    return base | dict(local_aws.env) | {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # the hook's `language: system`
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }  # fmt: skip


@pytest.fixture(scope="module")
def machines(local_aws: LocalAws) -> Any:
    """A STANDARD machine typed by a schema, an EXPRESS one without; the schemas client."""
    schemas = local_aws.client("schemas")
    schemas.create_registry(RegistryName=REGISTRY)
    arn = schemas.create_schema(
        RegistryName=REGISTRY, SchemaName=SCHEMA, Type="JSONSchemaDraft4",
        Content=json.dumps(REFUND),
    )["SchemaArn"]  # fmt: skip
    sfn = local_aws.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    sfn.create_state_machine(
        name=f"{PREFIX}refund",
        definition=json.dumps({"Comment": "Refunds one order.", **definition}),
        roleArn=ROLE,
        tags=[{"key": TAG_KEY, "value": arn}, {"key": "mcp:idempotent", "value": "true"}],
    )
    sfn.create_state_machine(
        name=f"{PREFIX}order-lookup",
        definition=json.dumps(definition),
        roleArn=ROLE,
        type="EXPRESS",
        tags=[{"key": "mcp:read-only", "value": "true"}],
    )
    return schemas


def test_check_without_a_configuration_exits_2_and_names_init(
    env: dict[str, str], tmp_path: Path
) -> None:
    git(env, tmp_path, "init", "-q")
    bare = sfn_mcp(env, tmp_path, "check")
    assert bare.returncode == 2, bare.output
    assert "no [tool.sfn-mcp] table" in bare.stderr
    assert "sfn-mcp init" in bare.stderr
    assert re.search(r"^hint: .*sfn-mcp init", bare.stderr, re.MULTILINE), bare.stderr


def test_from_init_to_the_pre_commit_hook(
    env: dict[str, str], machines: Any, tmp_path: Path
) -> None:
    project = tmp_path / "my-team"
    project.mkdir()
    git(env, project, "init", "-q")
    project_table = '[project]\nname = "my-team"  # ours\nversion = "0.1.0"\n'
    (project / "pyproject.toml").write_text(project_table, encoding="utf-8")

    # init writes the table and keeps every byte of the file
    init = sfn_mcp(env, project, "init", *INIT)
    assert init.returncode == 0, init.output
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith(project_table)
    table = tomllib.loads(text)["tool"]["sfn-mcp"]
    assert table == {
        "prefix": PREFIX,
        "schema-tag-key": TAG_KEY,
        "name": PACKAGE,
        "output": "generated",
    }
    assert "Next: sfn-mcp generate" in init.stderr

    # generate: the two tools, typed or not, written where the table says
    generated = sfn_mcp(env, project, "generate")
    assert generated.returncode == 0, generated.output
    assert re.search(r"^  refund\s+STANDARD\s+RefundRequest from first-contact/RefundRequest v1",
                     generated.stderr, re.MULTILINE), generated.stderr  # fmt: skip
    assert re.search(r"^  order_lookup\s+EXPRESS\s+free-form input \(no schema tag\)",
                     generated.stderr, re.MULTILINE), generated.stderr  # fmt: skip
    assert "2 tool(s): 1 typed, 1 untyped (1 no schema tag); 0 warning(s)" in generated.stderr
    assert "Wrote 2 tool(s) to" in generated.stderr
    package = project / "generated" / PACKAGE
    surface = json.loads((package / "surface.json").read_text(encoding="utf-8"))
    tools = {t["name"]: t for t in surface["tools"]}
    assert sorted(tools) == ["get_execution", "order_lookup", "refund"]
    assert tools["refund"]["annotations"]["idempotentHint"] is True
    assert tools["order_lookup"]["annotations"]["readOnlyHint"] is True
    assert tools["order_lookup"]["annotations"]["destructiveHint"] is False

    # check against the account: up to date
    check = sfn_mcp(env, project, "check")
    assert check.returncode == 0, check.output
    assert f"{PACKAGE} is up to date (2 workflow tool(s))" in check.stdout

    git(env, project, "add", "-A")
    git(env, project, "commit", "-qm", "the MCP server of my team's workflows")
    assert git(env, project, "status", "--porcelain").stdout == ""

    # the offline check, from the root and from folders below it
    for folder in (project, package / "models", project / "docs"):
        folder.mkdir(exist_ok=True)
        offline = sfn_mcp(env, folder, "check", "--offline")
        assert offline.returncode == 0, (folder, offline.output)
        assert "the code matches its surface.json (2 workflow tool(s))" in offline.stdout

    # a field becomes required in the registry: check says stale, generate, diff says breaking
    narrowed = json.loads(json.dumps(REFUND))
    narrowed["required"].append("note")
    machines.update_schema(
        RegistryName=REGISTRY, SchemaName=SCHEMA, Type="JSONSchemaDraft4",
        Content=json.dumps(narrowed),
    )  # fmt: skip
    stale = sfn_mcp(env, project, "check")
    assert stale.returncode == 1, stale.output
    assert f"{PACKAGE} is stale" in stale.stdout
    assert "refund: 1 breaking" in stale.stdout and "input.note" in stale.stdout
    assert "To fix: run `sfn-mcp generate`" in stale.stdout

    regenerated = sfn_mcp(env, project, "generate")
    assert regenerated.returncode == 0, regenerated.output
    assert "RefundRequest from first-contact/RefundRequest v2" in regenerated.stderr
    assert "changed: surface.json" in regenerated.stderr
    assert sfn_mcp(env, project, "check").returncode == 0

    diff = sfn_mcp(env, project, "diff", "HEAD")
    assert diff.returncode == 0, diff.output  # reports without blocking
    assert "refund: 1 breaking" in diff.stdout, diff.stdout
    assert "breaking" in diff.stdout and "input.note" in diff.stdout
    assert "input.note: now required" in diff.stdout and "[field-now-required]" in diff.stdout
    assert "order_lookup" not in diff.stdout  # unchanged tools are not listed
    blocking = sfn_mcp(env, project, "diff", "HEAD", "--fail-on", "breaking")
    assert blocking.returncode == 1, blocking.output

    # the README's pre-commit hook: passes on the regenerated package, fails on a hand edit
    hook = pre_commit_entry()
    assert hook[:2] == ["sfn-mcp", "check"], hook
    passing = run(env, project, *hook)
    assert passing.returncode == 0, passing.output
    assert "the code matches its surface.json (2 workflow tool(s))" in passing.stdout

    tools_py = package / "tools.py"
    code = tools_py.read_text(encoding="utf-8")
    edited = re.sub(r"read_only=True", "read_only=False", code, count=1)
    assert edited != code, "tools.py spells out read_only=True for order_lookup"
    tools_py.write_text(edited, encoding="utf-8")
    failing = run(env, project, *hook)
    assert failing.returncode == 1, failing.output
    assert "order_lookup:" in failing.stdout and "readOnlyHint" in failing.stdout, failing.stdout
    assert "the code does not match its surface.json" in failing.stdout
    assert "To fix: run `sfn-mcp generate`" in failing.stdout
    assert "never edit the generated files" in failing.stdout
