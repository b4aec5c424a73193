"""Several packages from one configuration: ``[tool.sfn-mcp.packages.<id>]`` tables.

Most tests compile from a small CloudFormation template written in ``tmp_path`` (no AWS), through
the real command line. ``tests/cases/bad_packages/<case>/`` holds one bad package configuration
each (``pyproject.toml``, the arguments in ``args.txt`` if any) with the exit status and the whole
stderr of ``sfn-mcp generate`` in ``expected.txt``; ``UPDATE_SNAPSHOTS=1`` rewrites them. The
integration test reads the local AWS through a counting proxy: two packages, one listing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from localaws.stack import LocalAws
from sfn_mcp.cli import main
from sfn_mcp.diagnostics import CompileError
from sfn_mcp.settings import load_packages, load_settings
from sfn_mcp.write import read_tree
from tests.faults import Rule, fault_proxy
from tests.helpers import SFN_MCP

CASES = sorted(
    p for p in (Path(__file__).parent / "cases" / "bad_packages").iterdir() if p.is_dir()
)


def _machine(logical_id: str, name: str, comment: str) -> dict[str, object]:
    definition = {
        "Comment": comment,
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    }
    return {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"StateMachineName": name, "DefinitionString": json.dumps(definition)},
    }


def write_template(folder: Path, **changed: str) -> None:
    """Three machines: payments-charge, payments-refund, shipping-send; ``changed`` replaces a
    machine's comment (its tool's description)."""
    comments = {
        "payments-charge": "Charges a card",
        "payments-refund": "Refunds a charge",
        "shipping-send": "Sends a parcel",
        **changed,
    }
    resources = {
        f"M{i}": _machine(f"M{i}", name, comment)
        for i, (name, comment) in enumerate(comments.items())
    }
    (folder / "template.json").write_text(
        json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}, indent=2),
        encoding="utf-8",
    )


BASE = """[tool.sfn-mcp]
source = "cloudformation"
templates = ["template.json"]
account = "123456789012"
region = "eu-west-1"
output = "generated"
max-wait-seconds = 30

[tool.sfn-mcp.workflows."payments-charge"]
title = "Charge a card"
confirm = true
"""

TWO = (
    BASE
    + """
[tool.sfn-mcp.packages.payments]
prefix = "payments-"

[tool.sfn-mcp.packages.payments.workflows."payments-charge"]
title = "Charge a customer's card"

[tool.sfn-mcp.packages.shipping]
prefix = "shipping-"
name = "shipping_tools"
max-wait-seconds = 10
"""
)


def project(tmp_path: Path, config: str = TWO) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)  # the configuration search stops here
    write_template(tmp_path)
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    return tmp_path


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SFN_MCP_NO_CACHE", "1")
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result


def surface(folder: Path) -> dict[str, dict[str, object]]:
    data = json.loads((folder / "surface.json").read_text(encoding="utf-8"))
    return {tool["name"]: tool for tool in data["tools"]}


def test_one_run_compiles_every_package_reading_the_template_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path)
    result = run(tmp_path, monkeypatch, "generate")
    assert result.exit_code == 0, result.stderr
    payments = surface(tmp_path / "generated" / "payments")
    shipping = surface(tmp_path / "generated" / "shipping_tools")
    assert sorted(payments) == ["charge", "get_execution", "refund"]
    assert sorted(shipping) == ["get_execution", "send"]
    # the template is parsed once; each package has its progress, tools and summary line
    assert result.stderr.count("Reading 1 template(s)") == 1
    assert "[shipping] Using the 1 template(s) read for an earlier package" in result.stderr
    assert re.search(r"^\[payments\] 2 tool\(s\): ", result.stderr, re.M)
    assert re.search(r"^\[shipping\] 1 tool\(s\): ", result.stderr, re.M)
    assert result.stderr.rstrip().endswith("2 of 2 package(s) generated")
    # the top-level workflows table applies only where the machine is selected: no warning
    assert "warning:" not in result.stderr


def test_a_package_inherits_what_it_does_not_set_and_overrides_what_it_does(
    tmp_path: Path,
) -> None:
    project(tmp_path)
    payments, shipping = load_packages({}, cwd=tmp_path, env={})
    assert (payments.package, payments.name, shipping.name) == (
        "payments",
        "payments",  # the id in snake_case
        "shipping_tools",
    )
    assert payments.output == shipping.output == (tmp_path / "generated").resolve()
    assert (payments.region, payments.account, payments.source) == (
        "eu-west-1",
        "123456789012",
        "cloudformation",
    )
    assert (payments.max_wait_seconds, shipping.max_wait_seconds) == (30, 10)
    charge = payments.workflows["payments-charge"]
    # the package's workflows table over the top-level one, setting by setting
    assert (charge.title, charge.confirm) == ("Charge a customer's card", True)
    assert shipping.workflows["payments-charge"].title == "Charge a card"


def test_without_packages_tables_there_is_one_package_as_before(tmp_path: Path) -> None:
    project(
        tmp_path, BASE.replace('output = "generated"', 'output = "generated"\nprefix = "payments-"')
    )
    [only] = load_packages({}, cwd=tmp_path, env={})
    assert only == load_settings({}, cwd=tmp_path, env={})
    assert only.package is None and only.name == "payments"


def test_package_limits_the_run_and_package_flags_need_exactly_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path)
    refused = run(tmp_path, monkeypatch, "generate", "--name", "x_tools")
    assert refused.exit_code == 1
    assert "error: --name would apply to each of the 2 packages (payments, shipping)" in (
        refused.stderr
    )
    assert "--package ID" in refused.stderr
    assert not (tmp_path / "generated").exists()

    result = run(tmp_path, monkeypatch, "generate", "--package", "shipping", "--name", "x_tools")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "generated").iterdir()) == ["x_tools"]
    assert "[payments]" not in result.stderr
    assert result.stderr.rstrip().endswith("1 of 1 package(s) generated")

    strict = run(tmp_path, monkeypatch, "generate", "--strict", "--package", "payments")
    assert strict.exit_code == 0, strict.stderr  # --strict applies to every package alike

    unknown = run(tmp_path, monkeypatch, "generate", "--package", "shiping")
    assert unknown.exit_code == 1
    assert "has no package 'shiping' (did you mean 'shipping'?)" in unknown.stderr


def test_a_failing_package_writes_nothing_and_the_others_are_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path)
    assert run(tmp_path, monkeypatch, "generate").exit_code == 0
    before = read_tree(tmp_path / "generated" / "payments")
    broken = TWO.replace('prefix = "payments-"', 'state-machines = ["payments-charge", "nope"]')
    (tmp_path / "pyproject.toml").write_text(broken, encoding="utf-8")
    write_template(tmp_path, **{"shipping-send": "Sends a parcel, tracked"})
    result = run(tmp_path, monkeypatch, "generate")
    assert result.exit_code == 1
    assert "[payments] error: state machine 'nope' (from the name list) does not exist" in (
        result.stderr
    )
    assert "failed: payments (nothing of theirs written)" in result.stderr
    assert read_tree(tmp_path / "generated" / "payments") == before
    assert "tracked" in surface(tmp_path / "generated" / "shipping_tools")["send"]["description"]


def test_check_reports_per_package_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path)
    assert run(tmp_path, monkeypatch, "generate").exit_code == 0
    fresh = run(tmp_path, monkeypatch, "check")
    assert fresh.exit_code == 0, fresh.stdout + fresh.stderr
    assert "package payments: " in fresh.stdout and "package shipping: " in fresh.stdout

    write_template(tmp_path, **{"shipping-send": "Sends a parcel, tracked"})
    stale = run(tmp_path, monkeypatch, "check")
    assert stale.exit_code == 1
    assert re.search(r"^package payments: .* is up to date", stale.stdout, re.M)
    assert re.search(r"^package shipping: .*shipping_tools is stale", stale.stdout, re.M)
    assert "stale: shipping" in stale.stderr

    document = json.loads(run(tmp_path, monkeypatch, "check", "--format", "json").stdout)
    assert document["upToDate"] is False
    assert [(p["package"], p["upToDate"]) for p in document["packages"]] == [
        ("payments", True),
        ("shipping", False),
    ]
    markdown = run(tmp_path, monkeypatch, "check", "--format", "markdown").stdout
    assert "package shipping" in markdown and "package payments" in markdown
    github = run(tmp_path, monkeypatch, "check", "--format", "github").stdout
    assert "package shipping" in github

    one = run(tmp_path, monkeypatch, "check", "--package", "payments")
    assert one.exit_code == 0 and "shipping" not in one.stdout

    offline = run(tmp_path, monkeypatch, "check", "--offline", "--format", "json")
    assert offline.exit_code == 0
    assert [p["package"] for p in json.loads(offline.stdout)["packages"]] == [
        "payments",
        "shipping",
    ]


def _git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def test_diff_compares_each_package_at_a_revision_and_names_added_and_removed_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path)
    (tmp_path / ".git").rmdir()
    _git(tmp_path, "init", "-q")
    assert run(tmp_path, monkeypatch, "generate").exit_code == 0
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "two packages")
    # shipping goes, refunds becomes a package of its own, payments loses refund
    config = (
        BASE
        + """
[tool.sfn-mcp.packages.payments]
state-machines = ["payments-charge"]

[tool.sfn-mcp.packages.refunds]
state-machines = ["payments-refund"]
"""
    )
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    assert run(tmp_path, monkeypatch, "generate").exit_code == 0
    result = run(tmp_path, monkeypatch, "diff", "HEAD", "--fail-on", "breaking")
    assert result.exit_code == 1  # payments lost a tool
    sections = re.findall(r"^== package (.*) ==$", result.stdout, re.M)
    assert sections == [
        "payments",
        "refunds: added (not configured at the old revision)",
        "shipping: removed (no longer configured)",
    ]
    assert "refund: 1 breaking" in result.stdout

    document = json.loads(run(tmp_path, monkeypatch, "diff", "HEAD", "--format", "json").stdout)
    assert [(p["package"], p["status"]) for p in document["packages"]] == [
        ("payments", "both"),
        ("refunds", "added"),
        ("shipping", "removed"),
    ]
    only = run(
        tmp_path, monkeypatch, "diff", "HEAD", "--package", "refunds", "--format", "markdown"
    )
    assert only.exit_code == 0
    assert "## Package `refunds`: added" in only.stdout and "shipping" not in only.stdout
    # the two-path form is as before
    paths = run(
        tmp_path,
        monkeypatch,
        "diff",
        "generated/payments/surface.json",
        "generated/refunds/surface.json",
    )
    assert paths.exit_code == 0 and "== package" not in paths.stdout


def test_two_packages_of_one_name_are_an_error_naming_both(tmp_path: Path) -> None:
    project(tmp_path, TWO.replace('name = "shipping_tools"', 'name = "payments"'))
    with pytest.raises(CompileError) as raised:
        load_packages({}, cwd=tmp_path, env={})
    text = raised.value.render()
    assert "[tool.sfn-mcp.packages.payments] and " in text
    assert "[tool.sfn-mcp.packages.shipping] both make the package 'payments'" in text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_package_configuration_gives_its_whole_expected_output(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    write_template(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        (case / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    args_file = case / "args.txt"
    args = args_file.read_text(encoding="utf-8").split() if args_file.is_file() else []
    result = run(tmp_path, monkeypatch, "generate", *args)
    stderr = result.stderr.replace(str(tmp_path.resolve()), "<project>")
    stderr = re.sub(r" in \d+\.\d s$", " in <seconds> s", stderr, flags=re.M)
    expected = case / "expected.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        expected.write_text(f"exit {result.exit_code}\n{stderr}", encoding="utf-8")
    assert f"exit {result.exit_code}\n{stderr}" == expected.read_text(encoding="utf-8")
    assert result.exit_code != 0 and result.stdout == ""
    assert not (tmp_path / "generated").exists()


class _Counting(Rule):
    """Counts the calls of one operation and lets every request through. A call is its first
    attempt of its first page: botocore's retries say ``attempt=2`` and so on in
    ``amz-sdk-request``, and a listing of more machines than a page holds (the session's local
    AWS, once other tests have added theirs) asks for the next ones with a ``nextToken``."""

    attempts: int = 0

    def matches(self, handler: BaseHTTPRequestHandler) -> bool:
        if handler.headers.get("X-Amz-Target", "").endswith(f".{self.target}"):
            self.attempts += 1
            first = handler.headers.get("amz-sdk-request", "attempt=1;").startswith("attempt=1;")
            if first and b'"nextToken"' not in getattr(handler, "body", b""):
                self.hits += 1
        return False


def test_two_packages_on_the_account_list_and_describe_each_machine_once(
    local_aws: LocalAws, tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        """[tool.sfn-mcp]
source = "account"
region = "us-east-1"
schema-tag-key = "input-schema-arn"
output = "generated"

[tool.sfn-mcp.packages.orders]
state-machines = ["ai-workflows-order-processing", "ai-workflows-support-triage"]

[tool.sfn-mcp.packages.support]
prefix = "ai-workflows-support-"
""",
        encoding="utf-8",
    )
    listings = _Counting("", target="ListStateMachines")
    describes = _Counting("", target="DescribeStateMachine")
    with fault_proxy(local_aws.env["AWS_ENDPOINT_URL"]) as proxy:
        proxy.rules += [listings, describes]
        env = {**os.environ, **local_aws.env, "AWS_ENDPOINT_URL": proxy.url}
        env["SFN_MCP_NO_CACHE"] = "1"

        def sfn_mcp(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(SFN_MCP), *args],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )

        result = sfn_mcp("generate")
        counted = (listings.hits, describes.hits)
        listings.hits = 0
        deployed = sfn_mcp("check", "--against-account")
    assert result.returncode == 0, result.stderr
    # one account, one region: listed once for both packages; support-triage is in both
    # packages, and described once
    assert counted == (1, 2)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert listings.hits == 1, (listings, deployed.stderr)
    assert re.search(r"^package orders: .* runs as reviewed", deployed.stdout, re.M)
    assert re.search(r"^package support: .* runs as reviewed", deployed.stdout, re.M)
    assert "[support] Using the listing of us-east-1" in result.stderr
    assert sorted(surface(tmp_path / "generated" / "orders")) == [
        "ai_workflows_order_processing",
        "ai_workflows_support_triage",
        "get_execution",
    ]
    assert sorted(surface(tmp_path / "generated" / "support")) == ["get_execution", "triage"]


def test_init_refuses_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(tmp_path, monkeypatch, "init", "--package", "payments", "--prefix", "payments-")
    assert result.exit_code == 2
    assert "--package chooses among [tool.sfn-mcp.packages.<id>] tables" in result.stderr
    assert not (tmp_path / "pyproject.toml").exists()


def test_configure_adds_the_package_it_is_told_and_asks_which_when_there_are_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path)
    assert run(tmp_path, monkeypatch, "generate").exit_code == 0
    target = tmp_path / "mcp.json"
    base = ("configure", "--client", "cursor", "--file", str(target), "--launch", "python")
    several = run(tmp_path, monkeypatch, *base)
    assert several.exit_code != 0
    assert "configures 2 packages (payments, shipping)" in several.stderr
    assert "--package ID" in several.stderr
    chosen = run(tmp_path, monkeypatch, *base, "--package", "shipping")
    assert chosen.exit_code == 0, chosen.stderr
    entry = json.loads(target.read_text(encoding="utf-8"))["mcpServers"]["shipping-tools"]
    assert entry["args"] == ["-m", "shipping_tools"]
    assert entry["env"]["PYTHONPATH"] == str(tmp_path / "generated")
    unknown = run(tmp_path, monkeypatch, *base, "--package", "billing")
    assert unknown.exit_code != 0 and "billing" in unknown.stderr
