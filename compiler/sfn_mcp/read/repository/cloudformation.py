"""The state machines and schemas of CloudFormation, SAM and CDK templates, as they would be
deployed.

``AWS::StepFunctions::StateMachine``: the definition from ``Definition`` (an object, written as
``definition_text``), ``DefinitionString`` (its text, intrinsics resolved) or
``DefinitionS3Location`` (the local file ``[tool.sfn-mcp.resources.<id>] definition-file``
names), then ``DefinitionSubstitutions`` replace ``${Key}``; ``StateMachineName``,
``StateMachineType`` (default STANDARD) and ``Tags``.

``AWS::Serverless::StateMachine`` is read directly, not through the SAM translator
(aws-sam-translator): the translator builds a whole CloudFormation template, IAM roles and
policies included, and needs the account's managed policy ARNs (an IAM call) for that, while
only five properties matter here. What it does with those is reproduced: a ``Definition`` object
has every intrinsic (and dynamic reference) replaced by ``${definition_substitution_N}``
(numbered in sorted key order) that becomes a definition substitution, and is written with sorted
keys and an indent of 4 (``definition_text(…, sam=True)``); ``DefinitionUri`` is a local file
(relative to the template, uploaded as it is by ``sam deploy``) or an S3 location mapped like
``DefinitionS3Location``; the tags are ``Tags`` plus ``stateMachine:createdBy: SAM``, which SAM
adds to every state machine it creates; ``AutoPublishAlias: NAME`` makes ``alias:NAME`` the
workflow's target when the configuration sets none. ``Globals`` holds nothing for state machines
that matters here (SAM reads only ``PropagateTags`` there).

``AWS::EventSchemas::Schema`` resources are schemas that a machine's schema tag can name, by
``Ref``/``Fn::GetAtt … SchemaArn`` or by a literal ARN.

A resource whose ``Condition`` is false is left out (a note); an unknown property of a state
machine is a warning with a "did you mean"; what a definition holds that is not known before
deployment stays a ``${…}`` placeholder with a warning (``Resolver.with_placeholders``), as a
DefinitionSubstitutions value does.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sfn_mcp.diagnostics import CompileError, Diagnostics
from sfn_mcp.read.records import Candidate, SchemaSource
from sfn_mcp.read.repository.cdk import Template
from sfn_mcp.read.repository.found import FoundMachine, FoundSchema, name_problem, shown
from sfn_mcp.read.repository.intrinsics import (
    NO_VALUE,
    Env,
    Invalid,
    Resolver,
    Unresolvable,
    is_intrinsic,
    resources_hint,
)
from sfn_mcp.read.repository.load import definition_text, load_definition
from sfn_mcp.read.schema_tags import parse_schema_arn
from sfn_mcp.settings import ResourceSettings, Settings

NATIVE = "AWS::StepFunctions::StateMachine"
SAM = "AWS::Serverless::StateMachine"
SCHEMA = "AWS::EventSchemas::Schema"
SAM_TAG = ("stateMachine:createdBy", "SAM")
MACHINE_TYPES = ("STANDARD", "EXPRESS")
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
SAM_SUBSTITUTION = "definition_substitution_{}"
# The properties of each type (CloudFormation's and SAM's references): any other is misspelt.
PROPERTIES = {
    NATIVE: (
        "Definition",
        "DefinitionS3Location",
        "DefinitionString",
        "DefinitionSubstitutions",
        "EncryptionConfiguration",
        "LoggingConfiguration",
        "RoleArn",
        "StateMachineName",
        "StateMachineType",
        "Tags",
        "TracingConfiguration",
    ),
    SAM: (
        "AutoPublishAlias",
        "Definition",
        "DefinitionSubstitutions",
        "DefinitionUri",
        "DeploymentPreference",
        "Events",
        "Logging",
        "Name",
        "PermissionsBoundary",
        "Policies",
        "PropagateTags",
        "Role",
        "RolePath",
        "Tags",
        "Tracing",
        "Type",
        "UseAliasAsEventTarget",
    ),
}


class _Skip(Exception):
    """This machine cannot be read; its error is in the diagnostics."""


class TemplateReader:
    """One template: its machines and its schemas."""

    def __init__(
        self,
        path: Path,
        template: Mapping[str, Any],
        settings: Settings,
        diagnostics: Diagnostics,
        *,
        source: Template | None = None,
        overrides: Mapping[str, ResourceSettings] | None = None,
    ) -> None:
        """``source``: where the stack is deployed, when a CDK manifest says (over the
        settings); ``overrides``: the ``[tool.sfn-mcp.resources]`` of this template, by logical
        id (default: the settings' as they are)."""
        self.path = path
        self.file = shown(path, settings)
        self.template = template
        self.settings = settings
        self.diagnostics = diagnostics
        source = source or Template(path)
        env = Env(
            source.account or settings.account,
            source.region or settings.region,
            settings.partition,
            source.stack_name or settings.stack_name,
        )
        self.resolver = Resolver(template, settings, overrides=overrides, env=env)
        resources = template.get("Resources")
        self.resources: Mapping[str, Any] = resources if isinstance(resources, dict) else {}

    def where(self, logical_id: str, kind: str, prop: str = "") -> str:
        return f"{self.file}: resource {logical_id} ({kind}){f' {prop}' if prop else ''}"

    # --- parameters ------------------------------------------------------------------------

    def check_parameters(self) -> bool:
        """Each parameter's value (``[tool.sfn-mcp.parameters]``, else its Default) is a string
        or a number within its AllowedValues and AllowedPattern; False (with errors) if not."""
        ok = True
        parameters = _mapping(self.template.get("Parameters"))
        for name, declared in parameters.items():
            declared = _mapping(declared)
            given = name in self.settings.parameters
            if not given and "Default" not in declared:
                continue
            value = self.settings.parameters[name] if given else declared["Default"]
            where = (
                f"[tool.sfn-mcp.parameters] {name}"
                if given
                else f"{self.file}: parameter {name} Default"
            )
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                kind = (
                    "a mapping"
                    if isinstance(value, dict)
                    else "a list"
                    if isinstance(value, list)
                    else repr(value)
                )
                self.diagnostics.error(
                    f"{where} must be a string or a number, got {kind}",
                    hint="write the value as text (a template's Parameters take no intrinsics; "
                    'a list parameter is written "a,b")',
                )
                ok = False
                continue
            text = value if isinstance(value, str) else str(value)
            kind_name = str(declared.get("Type", "String"))
            items = (
                [part.strip() for part in text.split(",")]
                if kind_name == "CommaDelimitedList" or kind_name.startswith("List<")
                else [text]
            )
            allowed = declared.get("AllowedValues")
            if isinstance(allowed, list):
                allowed_text = [str(a) for a in allowed]
                wrong = [item for item in items if item not in allowed_text]
                if wrong:
                    self.diagnostics.error(
                        f"{where} is {text!r}, not one of {self.file}'s AllowedValues for "
                        f"{name}: {', '.join(allowed_text)}",
                        hint="CloudFormation refuses the stack with this value: use an allowed one",
                    )
                    ok = False
            pattern = declared.get("AllowedPattern")
            if isinstance(pattern, str):
                try:
                    compiled = re.compile(pattern)
                except re.error:
                    continue
                if not all(compiled.fullmatch(item) for item in items):
                    self.diagnostics.error(
                        f"{where} is {text!r}, which does not match {self.file}'s AllowedPattern "
                        f"for {name}: {pattern}",
                        hint="CloudFormation refuses the stack with this value: use one that "
                        "matches",
                    )
                    ok = False
        return ok

    # --- machines --------------------------------------------------------------------------

    def machines(self) -> list[FoundMachine]:
        found = []
        for logical_id, resource in self.resources.items():
            kind = resource.get("Type") if isinstance(resource, dict) else None
            if kind not in (NATIVE, SAM) or not self._deployed(logical_id, str(kind)):
                continue
            properties = resource.get("Properties")
            properties = properties if isinstance(properties, dict) else {}
            self._check_properties(logical_id, str(kind), properties)
            try:
                found.append(self._machine(logical_id, str(kind), properties))
            except _Skip:
                continue
        return found

    def _deployed(self, logical_id: str, kind: str) -> bool:
        """Whether the resource is created: its ``Condition`` holds (or it has none). A false one
        is a note; one that cannot be evaluated is an error."""
        where = self.where(logical_id, kind)
        condition = _mapping(self.resources.get(logical_id)).get("Condition")
        try:
            holds = self.resolver.resource_condition(logical_id)
        except Invalid as exc:
            self.diagnostics.error(
                f"{where}: its Condition {condition!r}: {exc.what}", hint=exc.supply
            )
            return False
        except Unresolvable as exc:
            self.diagnostics.error(
                f"{where}: its Condition {condition!r} cannot be evaluated before deployment: "
                f"{exc.what}",
                hint=exc.supply,
            )
            return False
        if holds is not None and not holds[1]:
            self.diagnostics.note(
                f"{where} is left out: its Condition {holds[0]!r} is false, so CloudFormation "
                "does not create it",
                hint="set [tool.sfn-mcp.parameters] to the values of the stack you compile for",
            )
            return False
        return True

    def _check_properties(self, logical_id: str, kind: str, props: Mapping[str, Any]) -> None:
        known = PROPERTIES[kind]
        for prop in props:
            if prop in known:
                continue
            close = difflib.get_close_matches(str(prop), known, n=1)
            self.diagnostics.warning(
                f"{self.where(logical_id, kind)}: unknown property {prop!r}"
                + (f" (did you mean {close[0]!r}?)" if close else "")
                + "; it is ignored",
                hint=f"the properties of {kind} are {', '.join(known)}",
            )
        if kind == SAM and "Definition" in props and "DefinitionUri" in props:
            self.diagnostics.error(
                f"{self.where(logical_id, kind)} has both Definition and DefinitionUri, which "
                "the SAM translator refuses",
                hint="specify either Definition or DefinitionUri, not both",
            )

    def _machine(self, logical_id: str, kind: str, props: Mapping[str, Any]) -> FoundMachine:
        sam = kind == SAM
        type_prop = "Type" if sam else "StateMachineType"
        where = self.where(logical_id, kind)
        try:
            name = self.resolver.physical_name(logical_id)
        except Invalid as exc:
            self.diagnostics.error(
                f"{where}: the state machine's name: {exc.what}", hint=exc.supply
            )
            raise _Skip from None
        except Unresolvable as exc:
            self.diagnostics.error(
                f"{where}: the state machine's name is not known before deployment: {exc.what}",
                hint=exc.supply,
            )
            raise _Skip from None
        problem = name_problem(name)
        if problem:
            self.diagnostics.error(
                f"{where}: the state machine name {problem}",
                hint="AWS refuses it (CreateStateMachine): use 1-80 letters, digits, - and _",
            )
            raise _Skip
        try:
            arn = self.resolver.resource_attribute(logical_id, None)
        except Unresolvable as exc:
            self.diagnostics.error(
                f"{where}: the state machine's ARN is not known: {exc.what}",
                hint=f"{exc.supply}, or set {resources_hint(logical_id, 'arn')}",
            )
            raise _Skip from None
        machine_type = self._value(logical_id, kind, type_prop, props.get(type_prop, "STANDARD"))
        if machine_type not in MACHINE_TYPES:
            self.diagnostics.error(
                f"{self.where(logical_id, kind, type_prop)} is {machine_type!r}",
                hint=f"use {' or '.join(MACHINE_TYPES)}",
            )
            raise _Skip
        substitutions: dict[str, Any] = dict(_mapping(props.get("DefinitionSubstitutions")))
        described: dict[str, str] = {}  # substitution key → how to name it in a warning
        if sam and "Definition" in props and "DefinitionUri" in props:
            raise _Skip  # said by _check_properties
        if sam:
            definition, generated = self._sam_definition(logical_id, props)
            for key, (value, path) in generated.items():
                substitutions[key] = value
                described[key] = f"the intrinsic at {path} of Definition"
        else:
            definition = self._native_definition(logical_id, props)
        definition = self._substitute(logical_id, kind, definition, substitutions, described)
        tags, unresolved = self._tags(logical_id, kind, props.get("Tags"), sam=sam)
        alias = ""
        if sam and "AutoPublishAlias" in props:
            alias = self._value(logical_id, kind, "AutoPublishAlias", props["AutoPublishAlias"])
        return FoundMachine(
            machine=Candidate(name, arn, machine_type),
            tags=tags,
            definition=definition,
            where=where,
            unresolved_tags=unresolved,
            auto_publish_alias=alias,
            logical_id=logical_id,
        )

    def _value(self, logical_id: str, kind: str, prop: str, value: Any) -> str:
        try:
            return self.resolver.string(value)
        except Invalid as exc:
            self.diagnostics.error(
                f"{self.where(logical_id, kind, prop)}{_joined(exc.what)}", hint=exc.supply
            )
            raise _Skip from None
        except Unresolvable as exc:
            self.diagnostics.error(
                f"{self.where(logical_id, kind, prop)} is not known before deployment: {exc.what}",
                hint=exc.supply,
            )
            raise _Skip from None

    def _native_definition(self, logical_id: str, props: Mapping[str, Any]) -> str:
        if "Definition" in props:
            value = self._with_placeholders(logical_id, NATIVE, "Definition", props["Definition"])
            if not isinstance(value, dict):
                self.diagnostics.error(
                    f"{self.where(logical_id, NATIVE, 'Definition')} is not an object",
                    hint="give the definition as a mapping, or use DefinitionString",
                )
                raise _Skip
            return definition_text(value)
        if "DefinitionString" in props:
            text = self._with_placeholders(
                logical_id, NATIVE, "DefinitionString", props["DefinitionString"]
            )
            if not isinstance(text, str):
                self.diagnostics.error(
                    f"{self.where(logical_id, NATIVE, 'DefinitionString')} must be a string, "
                    f"got {'a mapping' if isinstance(text, dict) else type(text).__name__}",
                    hint="write the definition as text (or use Definition for an object)",
                )
                raise _Skip
            return text
        if "DefinitionS3Location" in props:
            return self._local_copy(logical_id, NATIVE, "DefinitionS3Location")
        self.diagnostics.error(
            f"{self.where(logical_id, NATIVE)} has no Definition, DefinitionString or "
            "DefinitionS3Location",
            hint="give the state machine its definition",
        )
        raise _Skip

    def _sam_definition(
        self, logical_id: str, props: Mapping[str, Any]
    ) -> tuple[str, dict[str, tuple[Any, str]]]:
        if "Definition" in props:
            definition = copy.deepcopy(props["Definition"])
            if not isinstance(definition, dict):
                self.diagnostics.error(
                    f"{self.where(logical_id, SAM, 'Definition')} is not an object",
                    hint="give the definition as a mapping, or use DefinitionUri",
                )
                raise _Skip
            generated = _sam_substitutions(definition)
            return definition_text(definition, sam=True), generated
        uri = props.get("DefinitionUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            path = (self.path.parent / uri).resolve()
            return self._load(logical_id, SAM, "DefinitionUri", path), {}
        if uri is not None:
            return self._local_copy(logical_id, SAM, "DefinitionUri"), {}
        self.diagnostics.error(
            f"{self.where(logical_id, SAM)} has no Definition or DefinitionUri",
            hint="give the state machine its definition",
        )
        raise _Skip

    def _local_copy(self, logical_id: str, kind: str, prop: str) -> str:
        """An S3 definition location, through the local file the configuration maps it to."""
        local = self.resolver.override(logical_id).definition_file
        if local is None:
            self.diagnostics.error(
                f"{self.where(logical_id, kind, prop)} is an S3 location, which sfn-mcp does not "
                "read",
                hint=f"name the local file it is uploaded from: [tool.sfn-mcp.resources."
                f'{logical_id}] definition-file = "path/to/definition.asl.json"',
            )
            raise _Skip
        return self._load(logical_id, kind, prop, local)

    def _load(self, logical_id: str, kind: str, prop: str, path: Path) -> str:
        try:
            return load_definition(path, "definition file", shown(path, self.settings))
        except CompileError as exc:
            self.diagnostics.error(
                f"{self.where(logical_id, kind, prop)}: {exc.problems[0]}",
                hint=exc.diagnostics[0].hint or exc.hint,
            )
            raise _Skip from None

    def _with_placeholders(self, logical_id: str, kind: str, prop: str, value: Any) -> Any:
        """A definition (or its text) resolved; what is not known before deployment stays a
        visible ``${…}`` placeholder, with a warning, as for DefinitionSubstitutions."""
        try:
            resolved, placeholders = self.resolver.with_placeholders(value)
        except Unresolvable as exc:  # Invalid: a wrong value, not an unknown one
            self.diagnostics.error(
                f"{self.where(logical_id, kind, prop)}{_joined(exc.what)}", hint=exc.supply
            )
            raise _Skip from None
        for placeholder, why in placeholders:
            self.diagnostics.warning(
                f"{self.where(logical_id, kind, prop)}: a value is not known before deployment "
                f"({why.what}); the placeholder {placeholder} stays in the definition",
                hint=why.supply,
            )
        return resolved

    def _substitute(
        self,
        logical_id: str,
        kind: str,
        definition: str,
        substitutions: Mapping[str, Any],
        described: Mapping[str, str],
    ) -> str:
        """What CloudFormation does with DefinitionSubstitutions: every ``${Key}`` replaced by
        the key's value; one whose value is not known stays, with a warning."""
        values: dict[str, str] = {}
        for key, raw in substitutions.items():
            try:
                values[key] = self.resolver.string(raw)
            except Unresolvable as exc:
                what = described.get(key, f"key {key}")
                supply = exc.supply
                self.diagnostics.warning(
                    f"{self.where(logical_id, kind, 'DefinitionSubstitutions')}: {what} is not "
                    f"known before deployment ({exc.what}); the placeholder ${{{key}}} stays in "
                    "the definition",
                    hint=supply,
                )
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), definition)

    def _tags(
        self, logical_id: str, kind: str, raw: Any, *, sam: bool
    ) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        where = self.where(logical_id, kind, "Tags")
        tags: dict[str, str] = {}
        unresolved: dict[str, tuple[str, str]] = {}
        pairs: list[tuple[Any, Any]] = []
        try:
            if is_intrinsic(raw):  # a whole Tags: !If [...]
                raw = self.resolver.resolve(raw)
            if isinstance(raw, list):  # items may be Fn::If, AWS::NoValue drops one
                raw = [self.resolver.resolve(t) if is_intrinsic(t) else t for t in raw]
                raw = [t for t in raw if t is not NO_VALUE]
        except Invalid as exc:
            self.diagnostics.error(f"{where}{_joined(exc.what)}", hint=exc.supply)
            raise _Skip from None
        except Unresolvable as exc:
            self.diagnostics.warning(
                f"{where}: the tags are not known before deployment ({exc.what}); they are left "
                "out",
                hint=exc.supply,
            )
            raw = None
        if sam:
            pairs.append(SAM_TAG)
            pairs.extend(_mapping(raw).items())
        elif isinstance(raw, list):
            pairs.extend((t.get("Key"), t.get("Value")) for t in raw if isinstance(t, dict))
        for raw_key, raw_value in pairs:
            try:
                key = self.resolver.string(raw_key)
            except Unresolvable as exc:
                self.diagnostics.warning(
                    f"{self.where(logical_id, kind, 'Tags')}: a tag key is not known before "
                    f"deployment ({exc.what}); the tag is left out",
                    hint="write the tag key in the template",
                )
                continue
            try:
                value = self.resolver.string(raw_value)
            except Invalid as exc:
                self.diagnostics.error(
                    f"{where}: the value of tag {key!r}{_joined(exc.what)}", hint=exc.supply
                )
                raise _Skip from None
            except Unresolvable as exc:
                unresolved[key] = (exc.what, exc.supply)
                continue
            tags[key] = value
        return tags, unresolved

    # --- schemas ---------------------------------------------------------------------------

    def schemas(self) -> dict[str, FoundSchema]:
        """The template's schemas whose ARN is known, by ARN."""
        found: dict[str, FoundSchema] = {}
        for logical_id, resource in self.resources.items():
            if not isinstance(resource, dict) or resource.get("Type") != SCHEMA:
                continue
            if not self._deployed(logical_id, SCHEMA):
                continue
            try:
                arn = self.resolver.resource_attribute(logical_id, None)
            except Unresolvable:
                continue  # a tag naming it cannot be resolved either, and says why
            ref = parse_schema_arn(arn)
            if ref is None:
                continue
            props = _mapping(resource.get("Properties"))
            version, default = self.resolver.schema_version(logical_id)
            where = self.where(logical_id, SCHEMA)
            try:
                content = self._schema_property(logical_id, props, "Content")
                schema_type = self._schema_property(logical_id, props, "Type")
                description = self._schema_property(logical_id, props, "Description")
            except _Skip:
                continue
            except Unresolvable as exc:
                found[arn] = FoundSchema(None, where, logical_id, default, exc.what)
                continue
            if not content.strip():
                found[arn] = FoundSchema(None, where, logical_id, default, "it has no Content")
                continue
            source = SchemaSource(ref, version, schema_type, content, description)
            found[arn] = FoundSchema(source, where, logical_id, default)
        return found

    def _schema_property(self, logical_id: str, props: Mapping[str, Any], prop: str) -> str:
        try:
            return self.resolver.string(props.get(prop, ""))
        except Invalid as exc:
            self.diagnostics.error(
                f"{self.where(logical_id, SCHEMA, prop)}{_joined(exc.what)}", hint=exc.supply
            )
            raise _Skip from None


def _joined(what: str) -> str:
    """A problem after the place it is in: "… Content must be a string", "…: circular …"."""
    return f" {what}" if what.startswith("must ") else f": {what}"


def _sam_substitutions(definition: Any) -> dict[str, tuple[Any, str]]:
    """What the SAM translator does to a Definition object: each intrinsic or dynamic reference,
    found in sorted key order, is replaced (in place) by ``${definition_substitution_N}``."""
    generated: dict[str, tuple[Any, str]] = {}

    def walk(node: Any, path: str) -> None:
        items: list[tuple[Any, Any]]
        if isinstance(node, dict):
            items = sorted(node.items(), key=lambda item: str(item[0]))
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            return
        for key, value in items:
            here = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
            if is_intrinsic(value) or (
                isinstance(value, str) and value.startswith("{{resolve:") and value.endswith("}}")
            ):
                name = SAM_SUBSTITUTION.format(len(generated) + 1)
                generated[name] = (value, str(here))
                node[key] = "${" + name + "}"
            elif isinstance(value, dict | list):
                walk(value, str(here))

    walk(definition, "")
    return generated


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
