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
from sfn_mcp.read.repository.cdk import templates

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


MAX_DEPTH = 100  # nesting levels of a template or definition (CloudFormation's own limit is lower)


class DuplicateKey(ValueError):
    """A mapping that gives one key twice (YAML and JSON would keep the last silently)."""


def _check_nodes(root: Any) -> None:
    """Every mapping of a composed YAML document: no key given twice, no deeper than
    ``MAX_DEPTH`` (walked without recursion, so a deep document cannot overflow the stack)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH and isinstance(node, yaml.CollectionNode):
            raise _TooDeep(node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            lines: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    line = key_node.start_mark.line + 1
                    if key_node.value in lines:
                        raise DuplicateKey(
                            f"the key {key_node.value!r} is given twice in one mapping, on lines "
                            f"{lines[key_node.value]} and {line} (only the last would count)"
                        )
                    lines[key_node.value] = line
                stack.append((value_node, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)


class _TooDeep(ValueError):
    def __init__(self, line: int = 0) -> None:
        super().__init__(line)
        self.line = line


class _Checked:
    """A loader mixin: the document is checked (``_check_nodes``) before it is constructed."""

    def construct_document(self, node: Any) -> Any:
        _check_nodes(node)
        return super().construct_document(node)  # type: ignore[misc]


class _Loader(_Checked, CfnYamlLoader):  # type: ignore[misc]
    """cfn-flip's loader, with dates and times kept as written."""


class _PlainLoader(_Checked, yaml.SafeLoader):  # type: ignore[misc]
    """YAML without CloudFormation's tags (definition files), dates and times kept as written."""


class _NoIntrinsics(yaml.SafeLoader):  # type: ignore[misc]
    """Tells a definition file with CloudFormation tags apart from other YAML errors."""


_NoIntrinsics.add_multi_constructor("!", lambda loader, suffix, node: None)


for _loader in (_Loader, _PlainLoader):
    _loader.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
    )


def read_text(path: Path, what: str, shown: str | None = None) -> str:
    """A file's text; ``what`` and ``shown`` (the path as the user knows it) name it."""
    name = shown or str(path)
    try:
        return path.read_text(encoding="utf-8-sig")  # a byte order mark is allowed, and dropped
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
    ``[``, or the file ends in ``.json``). A key given twice in a mapping, or nesting deeper than
    ``MAX_DEPTH``, is an error naming the file."""
    name = shown or str(path)
    too_deep = CompileError(
        f"{what} {name} is nested more than {MAX_DEPTH} levels deep",
        hint="a template or definition this deep is not one AWS accepts: check the file",
    )
    if path.suffix == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            document = json.loads(text, object_pairs_hook=_unique_pairs)
        except json.JSONDecodeError as exc:
            raise CompileError(
                f"{what} {name} is not valid JSON: line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}",
                hint="fix the JSON (a JSON file must be one JSON document)",
            ) from None
        except RecursionError:
            raise too_deep from None
        except DuplicateKey as exc:
            raise CompileError(
                f"{what} {name}: {_json_duplicate(text, exc)}",
                hint="remove or rename one of them",
            ) from None
        if _depth(document) > MAX_DEPTH:
            raise too_deep
        return document
    loader = _Loader if cloudformation else _PlainLoader
    try:
        document = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        hint = "fix the YAML"
        if not cloudformation and _has_intrinsics(text):
            problem += " (intrinsics are not processed in DefinitionUri files)"
            hint = (
                "intrinsics are not processed in DefinitionUri files; use "
                "DefinitionSubstitutions (${Name} in the file, its value in the template)"
            )
        raise CompileError(
            f"{what} {name} is not valid YAML: {where}{problem}", hint=hint
        ) from None
    except (_TooDeep, RecursionError):
        raise too_deep from None
    except DuplicateKey as exc:
        raise CompileError(f"{what} {name}: {exc}", hint="remove or rename one of them") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise CompileError(f"{what} {name} is not valid YAML: {exc}", hint="fix the YAML") from None
    return _plain(document)


def _has_intrinsics(text: str) -> bool:
    try:
        yaml.load(text, Loader=_NoIntrinsics)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, ValueError, RecursionError):
        return False
    return True


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def _json_duplicate(text: str, exc: DuplicateKey) -> str:
    """Where a JSON key is given twice: the lines, from the YAML reading of the JSON (JSON's own
    parser gives none), else the key alone."""
    try:
        _check_nodes(yaml.compose(text, Loader=yaml.SafeLoader))
    except DuplicateKey as found:
        return str(found)
    except (yaml.YAMLError, ValueError, RecursionError):
        pass
    return f"the key {exc.args[0]!r} is given twice in one object (only the last would count)"


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                items = node.values() if isinstance(node, dict) else node
                stack.extend((item, depth + 1) for item in items)
    return deepest


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
    ``*.template.json`` there and in its nested assemblies (``assembly-*/``, at any depth)."""
    return [template.path for template in templates(paths)]
