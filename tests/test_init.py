"""``sfn-mcp init`` and the commands that need a configuration, as a new user meets them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfn_mcp.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr


def test_init_writes_the_table_from_the_flags_and_keeps_the_rest_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    original = '[project]\nname = "x"  # a comment\n\n[tool.ruff]\nline-length = 99\n'
    (tmp_path / "pyproject.toml").write_text(original)
    code, err = run(
        "init", "--prefix", "team-", "--schema-tag-key", "input-schema-arn",
        "--state-machine", "other", "--tag", "team=ai", "-o", "generated", "--strict",
    )  # fmt: skip
    assert code == 0, err
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)
    table = tomllib.loads(text)["tool"]["sfn-mcp"]
    assert table == {
        "prefix": "team-",
        "state-machines": ["other"],
        "tag": "team=ai",
        "schema-tag-key": "input-schema-arn",
        "output": "generated",
        "strict": True,
        "name": "team",
    }
    assert "Next: sfn-mcp generate" in err
    code, err = run("init", "--prefix", "x-")
    assert code == 2 and "already has a [tool.sfn-mcp] table" in err


def test_init_refuses_bad_values_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = run("init", "--name", "json")
    assert code == 2 and "would shadow the module 'json'" in err
    assert not (tmp_path / "pyproject.toml").exists()


@pytest.mark.parametrize("command", [["check"], ["check", "--offline"]])
def test_check_without_a_configuration_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    code, err = run(*command)
    assert code == 2
    assert "no [tool.sfn-mcp] table" in err and "sfn-mcp init" in err
