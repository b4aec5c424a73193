"""Reading the repository's files: templates (JSON, or YAML with CloudFormation's short-form tags)
and state machine definitions, and the one rule for the text of a definition given as an object.

YAML is read with cfn-flip's loader (``cfn_tools``), which turns ``!Ref x`` into ``{"Ref": "x"}``,
``!GetAtt A.B`` into ``{"Fn::GetAtt": ["A", "B"]}`` and every other ``!Name`` into
``{"Fn::Name": …}``; the one change made to it here is that dates and times stay the text they
are written as (YAML would make ``2010-09-09`` a date), as CloudFormation reads them. A file that
cannot be read or parsed is a ``CompileError`` naming it, with the line where the parser gives one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from cfn_tools.yaml_loader import CfnYamlLoader  # type: ignore[import-untyped]

from sfn_mcp.diagnostics import CompileError

TEMPLATE_GLOB = "*.template.json"  # what `cdk synth` writes into cdk.out (and assembly-*/)
YAML_SUFFIXES = (".yaml", ".yml")


def definition_text(value: Any, *, sam: bool = False) -> str:
    """The definition string deployed for a definition given as an object (a ``Definition``
    property, or a YAML file): ``json.dumps(value, indent=2, ensure_ascii=False)``, the keys in
    the order written. ``sam``: what the SAM translator writes for ``AWS::Serverless::StateMachine``
    instead (keys sorted, an indent of 4, non-ASCII escaped), so a compile from the template
    equals one from the account it was deployed to."""
    if sam:
        return json.dumps(value, sort_keys=True, indent=4, separators=(",", ": "))
    return json.dumps(value, indent=2, ensure_ascii=False)


class _Loader(CfnYamlLoader):  # type: ignore[misc]
    """cfn-flip's loader, with dates and times kept as written."""


class _PlainLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML without CloudFormation's tags (definition files), dates and times kept as written."""


for _loader in (_Loader, _PlainLoader):
    _loader.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
    )


def read_text(path: Path, what: str, shown: str | None = None) -> str:
    """A file's text; ``what`` and ``shown`` (the path as the user knows it) name it."""
    name = shown or str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CompileError(f"{what} {name} does not exist", hint="check the path") from None
    except IsADirectoryError:
        raise CompileError(
            f"{what} {name} is a folder, not a file", hint="check the path"
        ) from None
    except UnicodeDecodeError as exc:
        raise CompileError(f"{what} {name} is not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise CompileError(f"cannot read {what} {name}: {exc.strerror}") from None


def parse(text: str, path: Path, what: str, *, cloudformation: bool, shown: str = "") -> Any:
    """A JSON or YAML document as plain dicts and lists (JSON when it starts with ``{`` or
    ``[``, or the file ends in ``.json``)."""
    name = shown or str(path)
    if path.suffix == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CompileError(
                f"{what} {name} is not valid JSON: line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}",
                hint="fix the JSON (a JSON file must be one JSON document)",
            ) from None
    loader = _Loader if cloudformation else _PlainLoader
    try:
        document = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise CompileError(
            f"{what} {name} is not valid YAML: {where}{problem}", hint="fix the YAML"
        ) from None
    except (yaml.YAMLError, ValueError) as exc:
        raise CompileError(f"{what} {name} is not valid YAML: {exc}", hint="fix the YAML") from None
    return _plain(document)


def _plain(value: Any) -> Any:
    """cfn-flip's ordered dicts as plain dicts, in the same order."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in list(dict.items(value))}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def load_template(path: Path, shown: str = "") -> dict[str, Any]:
    text = read_text(path, "template", shown)
    document = parse(text, path, "template", cloudformation=True, shown=shown)
    if not isinstance(document, dict):
        raise CompileError(
            f"template {shown or path} is not a CloudFormation template (its top level is not "
            "a mapping)",
            hint="check templates in [tool.sfn-mcp]",
        )
    return document


def load_definition(path: Path, what: str = "definition file", shown: str = "") -> str:
    """A definition file's text as deployed: a JSON file's text unchanged, a YAML file as
    ``definition_text``. Either way it must hold a JSON object."""
    text = read_text(path, what, shown)
    document = parse(text, path, what, cloudformation=False, shown=shown)
    if not isinstance(document, dict):
        raise CompileError(
            f"{what} {shown or path} does not hold a state machine definition (a JSON object)",
            hint="a definition has StartAt and States at its top level",
        )
    if path.suffix in YAML_SUFFIXES or not text.lstrip().startswith("{"):
        return definition_text(document)
    return text


def template_files(paths: Iterable[Path]) -> list[Path]:
    """The templates to read: each file as given, and in each folder (a ``cdk.out``) every
    ``*.template.json`` there and in its nested assemblies (``assembly-*/``), sorted."""
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(path.glob(TEMPLATE_GLOB)) + sorted(path.glob(f"assembly-*/{TEMPLATE_GLOB}"))
        if not found:
            raise CompileError(
                f"template folder {path} holds no {TEMPLATE_GLOB} (nor assembly-*/ with one)",
                hint="run `cdk synth` first, or name the template files in templates",
            )
        files.extend(found)
    return files
