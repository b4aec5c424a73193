"""Bad inputs, one case folder each, checked through the whole command line.

``tests/cases/bad_inputs/<case>/schema.toml`` holds a schema as the registry would return it
(``type``, ``content``) for one state machine; ``expected.txt`` holds the exit status and
everything ``sfn-mcp generate`` prints for it (an untyped tool and a warning), and
``expected-strict.txt`` the same with ``--strict`` (an error, nothing written). The account is
replaced by the recorded read output (no AWS); everything after the read stage, the error
reporting included, is the real thing. ``UPDATE_SNAPSHOTS=1`` rewrites the expectations.
"""

from __future__ import annotations

import os
import re
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


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_its_whole_expected_output(
    case: Path, strict: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = [machine_for(case)]
    monkeypatch.setattr(
        sfn_mcp.pipeline, "read_account", lambda *args, **kwargs: recorded, raising=True
    )
    monkeypatch.chdir(tmp_path)
    args = ["generate", "--prefix", "shop-", "--name", "shop_tools", *(["--strict"] * strict)]
    result = CliRunner().invoke(main, args)
    stderr = result.stderr.replace(str(tmp_path.resolve()), "<output>")
    stderr = re.sub(r" in \d+\.\d s$", " in <seconds> s", stderr, flags=re.M)
    expected = case / ("expected-strict.txt" if strict else "expected.txt")
    if os.environ.get("UPDATE_SNAPSHOTS"):
        expected.write_text(f"exit {result.exit_code}\n{stderr}", encoding="utf-8")
    assert f"exit {result.exit_code}\n{stderr}" == expected.read_text(encoding="utf-8")
    assert "Traceback" not in result.stderr and result.stdout == ""
    written = (tmp_path / "shop_tools").exists()
    assert written == (result.exit_code == 0), "a failed run must write nothing"
