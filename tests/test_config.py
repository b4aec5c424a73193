from pathlib import Path

import pytest

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.settings import WorkflowSettings, load_settings
from sfn_mcp.settings.declared import (
    PACKAGE_SETTINGS,
    repository_example,
    settings_table,
    workflow_example,
)


def write(tmp_path: Path, text: str, name: str = "pyproject.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_anchor_environment_variables_are_read(tmp_path: Path) -> None:
    env = {
        "STATE_MACHINE_PREFIX": "mcpdemo-",
        "STATE_MACHINE_LIST": " other-machine , second ,,",
        "STATE_MACHINE_TAG_KEY": "team",
        "STATE_MACHINE_TAG_VALUE": "ai",
        "STATE_MACHINE_INPUT_SCHEMA_ARN_TAG_KEY": "schema",
        "AWS_REGION": "eu-west-1",
    }
    s = load_settings({}, env=env, cwd=tmp_path)
    assert s.prefix == "mcpdemo-"
    assert s.state_machines == ("other-machine", "second")
    assert s.tag == ("team", "ai")
    assert s.schema_tag_key == "schema"
    assert s.region == "eu-west-1"
    assert s.name == "mcpdemo"  # derived from the prefix
    assert s.output == tmp_path


def test_cli_beats_file_and_a_file_turns_the_anchor_variables_off(tmp_path: Path) -> None:
    write(tmp_path, '[tool.sfn-mcp]\nprefix = "file-"\nname = "from_file"\noutput = "out"\n')
    env = {"STATE_MACHINE_LIST": "stray", "STATE_MACHINE_INPUT_SCHEMA_ARN_TAG_KEY": "env-key"}
    s = load_settings({}, env=env, cwd=tmp_path)
    assert (s.prefix, s.name, s.state_machines, s.schema_tag_key) == (
        "file-",
        "from_file",
        (),
        None,
    )
    assert s.output == (tmp_path / "out").resolve()
    s = load_settings({"prefix": "cli-", "output": "elsewhere"}, env=env, cwd=tmp_path)
    assert s.prefix == "cli-"
    assert s.output == (tmp_path / "elsewhere").resolve()


@pytest.mark.parametrize("wait", ["inf", "nan", "-1", "0", "3601"])
def test_waits_must_be_finite_and_positive(tmp_path: Path, wait: str) -> None:
    write(tmp_path, f"[tool.sfn-mcp]\nmax-wait-seconds = {wait}\n")
    with pytest.raises(CompileError, match="must be a positive number"):
        load_settings({}, env={}, cwd=tmp_path)
    with pytest.raises(CompileError, match="must be a positive number"):
        load_settings({"max-wait-seconds": float(wait)}, env={}, cwd=tmp_path / "..")


def test_output_in_a_config_file_is_relative_to_that_file(tmp_path: Path) -> None:
    config = write(tmp_path, 'prefix = "p-"\noutput = "gen"\n', name="sfn-mcp.toml")
    elsewhere = tmp_path / "sub"
    elsewhere.mkdir()
    s = load_settings({}, config_path=config, env={}, cwd=elsewhere)
    assert s.output == (tmp_path / "gen").resolve()


@pytest.mark.parametrize(
    ("env", "missing"),
    [({"STATE_MACHINE_TAG_KEY": "team"}, "value"), ({"STATE_MACHINE_TAG_VALUE": "ai"}, "key")],
)
def test_half_a_tag_filter_is_an_error_not_zero_tools(
    tmp_path: Path, env: dict[str, str], missing: str
) -> None:
    with pytest.raises(CompileError) as raised:
        load_settings({}, env=env, cwd=tmp_path)
    assert f"the {missing} is missing" in raised.value.render()
    assert "STATE_MACHINE_TAG_VALUE" in raised.value.render()


def test_cli_tag_must_be_key_equals_value(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="KEY=VALUE"):
        load_settings({"tag": "team"}, env={}, cwd=tmp_path)
    assert load_settings({"tag": "team=ai=x"}, env={}, cwd=tmp_path).tag == ("team", "ai=x")


def test_unknown_settings_are_errors_with_the_valid_list(tmp_path: Path) -> None:
    write(tmp_path, '[tool.sfn-mcp]\npreffix = "x"\n')
    with pytest.raises(CompileError) as raised:
        load_settings({}, env={}, cwd=tmp_path)
    assert "preffix" in raised.value.render()
    assert "valid settings" in raised.value.render()


def test_workflow_overrides(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[tool.sfn-mcp]\nprefix = "p-"\n'
        '[tool.sfn-mcp.workflows."p-orders"]\ninput-mode = "detail"\nmax-wait-seconds = 5\n',
    )
    s = load_settings({}, env={}, cwd=tmp_path)
    assert s.workflows == {"p-orders": WorkflowSettings(input_mode="detail", max_wait_seconds=5.0)}
    write(tmp_path, '[tool.sfn-mcp.workflows."p-orders"]\ninput-mode = "raw"\n')
    with pytest.raises(
        CompileError, match="input-mode must be one of 'envelope', 'detail', got 'raw'"
    ):
        load_settings({}, env={}, cwd=tmp_path)


@pytest.mark.parametrize("name", ["Bad-Name", "1abc", "with space", "_private"])
def test_package_name_must_be_a_lowercase_identifier(tmp_path: Path, name: str) -> None:
    with pytest.raises(CompileError, match="must be a lowercase Python identifier"):
        load_settings({"name": name}, env={}, cwd=tmp_path)


@pytest.mark.parametrize("name", ["json", "asyncio", "mcp", "boto3", "os"])
def test_package_name_must_not_shadow_what_the_server_imports(tmp_path: Path, name: str) -> None:
    with pytest.raises(CompileError, match=f"would shadow the module '{name}'"):
        load_settings({"name": name}, env={}, cwd=tmp_path)


def test_the_selection_comes_whole_from_the_strongest_source(tmp_path: Path) -> None:
    write(tmp_path, '[tool.sfn-mcp]\nprefix = "p-"\ntag = "team=ai"\n')
    s = load_settings({"state-machines": ["only-this"]}, env={}, cwd=tmp_path)
    assert (s.prefix, s.state_machines, s.tag) == ("", ("only-this",), None)
    env = {"STATE_MACHINE_PREFIX": "env-", "STATE_MACHINE_TAG_KEY": "k"}
    s = load_settings({"prefix": "cli-"}, env=env, cwd=tmp_path / "..")
    assert (s.prefix, s.tag) == ("cli-", None)


def test_ignored_anchor_variables_are_noted(tmp_path: Path) -> None:
    path = write(tmp_path, '[tool.sfn-mcp]\nprefix = "p-"\n')
    s = load_settings({}, env={"STATE_MACHINE_PREFIX": "env-"}, cwd=tmp_path)
    assert s.notes == (f"ignoring STATE_MACHINE_PREFIX: {path} configures sfn-mcp",)


def test_another_projects_pyproject_says_the_table_is_missing(tmp_path: Path) -> None:
    other = write(tmp_path, '[project]\nname = "x"\n', name="other.toml")
    with pytest.raises(CompileError, match="has no \\[tool.sfn-mcp\\] table"):
        load_settings({}, config_path=other, env={}, cwd=tmp_path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "[tool.sfn-mcp\n")
    with pytest.raises(CompileError, match="pyproject.toml is not valid TOML"):
        load_settings({}, env={}, cwd=tmp_path)


def test_pyproject_without_our_table_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, '[project]\nname = "x"\n')
    assert load_settings({}, env={}, cwd=tmp_path).config_file is None


def test_tool_name_overrides_must_be_valid_tool_names(tmp_path: Path) -> None:
    write(tmp_path, '[tool.sfn-mcp.workflows."p-a"]\ntool-name = "Bad Name"\n')
    with pytest.raises(
        CompileError, match="tool-name must be 1 to 64 lowercase .*, got 'Bad Name'"
    ):
        load_settings({}, env={}, cwd=tmp_path)


def between(text: str, marker: str) -> str:
    start, end = f"<!-- {marker}:start -->\n", f"<!-- {marker}:end -->"
    assert start in text and end in text, f"README.md lost the {marker} markers"
    return text[text.index(start) + len(start) : text.index(end)]


def test_the_readme_tables_are_made_from_the_declarations() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert between(readme, "settings") == settings_table()
    assert between(readme, "workflow-settings") == f"```toml\n{workflow_example()}```\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("output = 5", "output must be a folder path (a string), got 5"),
        ("schema-tag-key = true", "schema-tag-key must be a non-empty string, got True"),
        ('max-workers = "8"', "max-workers must be a whole number from 1 to 64, got '8'"),
        ('state-machines = "a,b"', "state-machines must be a list of state machine names"),
        ("tag = 3", 'tag must be "KEY=VALUE" with both halves, got 3'),
    ],
)
def test_values_of_the_wrong_type_are_named_with_key_and_file(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write(tmp_path, f"[tool.sfn-mcp]\n{line}\n")
    with pytest.raises(CompileError) as raised:
        load_settings({}, env={}, cwd=tmp_path)
    assert raised.value.problems[0].startswith(f"{path} [tool.sfn-mcp]: {message}")


def test_every_flag_comes_from_a_declaration() -> None:
    from sfn_mcp.cli.generate import generate

    flags = {opt for param in generate.params for opt in param.opts if opt.startswith("--")}
    declared = {s.flag for s in PACKAGE_SETTINGS.values() if s.flag}
    assert flags == declared | {"--config"}


def test_the_configuration_is_found_in_parent_folders_up_to_the_repository_root(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    path = write(tmp_path, '[tool.sfn-mcp]\nprefix = "p-"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert load_settings({}, env={}, cwd=deep).config_file == path
    outside = tmp_path / "repo"
    (outside / ".git").mkdir(parents=True)
    assert load_settings({}, env={}, cwd=outside).config_file is None  # stops at the root


@pytest.mark.parametrize("table", ["sfn_mcp", "SFN-MCP", "sfn-mpc", "sfnmcp"])
def test_a_near_miss_table_name_is_named(tmp_path: Path, table: str) -> None:
    write(tmp_path, f'[tool."{table}"]\nprefix = "p-"\n')
    with pytest.raises(CompileError, match=f"has a table \\[tool.{table}\\], which sfn-mcp does"):
        load_settings({}, env={}, cwd=tmp_path)


def test_the_readme_shows_the_repository_tables_made_from_the_declarations() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert between(readme, "repository-settings") == f"```toml\n{repository_example()}```\n"
