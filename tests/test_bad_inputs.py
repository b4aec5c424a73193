"""Bad inputs, one case folder each, checked through the whole command line.

``tests/cases/bad_inputs/<case>/schema.toml`` holds a schema as the registry would return it
(``type``, ``content``) for one state machine; ``expected-stderr.txt`` is everything ``sfn-mcp
generate`` prints for it, and ``expected-exit`` its exit status. The account is replaced by the
recorded read output (no AWS); everything after the read stage, the error reporting included, is
the real thing. ``UPDATE_SNAPSHOTS=1`` rewrites the expectations.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import sfn_mcp.pipeline
from sfn_mcp.cli import main
from sfn_mcp.read.records import MachineSource, SchemaRef, SchemaSource
from tests.sources import ARN, SCHEMA_ARN

CASES = sorted(p for p in (Path(__file__).parent / "cases" / "bad_inputs").iterdir() if p.is_dir())


def machine_for(case: Path) -> MachineSource:
    spec = tomllib.loads((case / "schema.toml").read_text(encoding="utf-8"))
    name = f"shop-{case.name}"
    source = SchemaSource(
        SchemaRef(f"{SCHEMA_ARN}shop/{case.name}", "us-east-1", "shop", case.name),
        "1",
        spec["type"],
        spec["content"],
        "",
    )
    definition = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}'
    return MachineSource(name, ARN + name, "STANDARD", definition, "", {}, source)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_its_whole_expected_output(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = [machine_for(case)]
    monkeypatch.setattr(
        sfn_mcp.pipeline, "read_account", lambda *args, **kwargs: recorded, raising=True
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["generate", "--prefix", "shop-", "--name", "shop_tools"])
    expected_stderr = case / "expected-stderr.txt"
    expected_exit = case / "expected-exit"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        expected_stderr.write_text(result.stderr, encoding="utf-8")
        expected_exit.write_text(f"{result.exit_code}\n", encoding="utf-8")
    assert result.stderr == expected_stderr.read_text(encoding="utf-8")
    assert result.exit_code == int(expected_exit.read_text(encoding="utf-8"))
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "shop_tools").exists(), "a failed run must write nothing"
