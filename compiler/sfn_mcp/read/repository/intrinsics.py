"""CloudFormation intrinsic functions, resolved before deployment where their value is known.

``Resolver(template, settings).resolve(value)`` gives the value CloudFormation would give, or
raises ``Unresolvable`` saying what is unknown and what would supply it. Nothing is guessed: a
name CloudFormation generates, ``Fn::ImportValue``, a parameter with no value and no default, a
dynamic reference (``{{resolve:…}}``), a function not handled here: all are unresolvable, and
``[tool.sfn-mcp.parameters]`` / ``[tool.sfn-mcp.resources.<LogicalId>]`` can supply them.

Handled: ``Ref`` (parameters, pseudo parameters, the resources of ``RESOURCE_KINDS``),
``Fn::GetAtt`` (``A.B`` and ``[A, B]``), ``Fn::Sub`` (both forms, ``${!Literal}``), ``Fn::Join``,
``Fn::Select``, ``Fn::Split``, ``Fn::FindInMap`` (with a ``DefaultValue``), ``Fn::Base64``,
``Fn::If`` with conditions made of ``Fn::Equals``/``And``/``Or``/``Not``/``Condition`` (and a
resource's own ``Condition``), ``AWS::NoValue``, ``Fn::ToJsonString`` and ``Fn::Length`` (with
``Transform: AWS::LanguageExtensions``) and SAM's ``Function.Alias``/``Function.Version``. A
value of the wrong kind, or a resource that needs itself, raises ``Invalid`` (an
``Unresolvable`` that is the template's fault). ``with_placeholders`` resolves a definition,
leaving ``${Name}`` for each piece not known before deployment. What each resource type's
``Ref`` and ``GetAtt`` give follows the CloudFormation template reference ("Return values" of
each resource).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sfn_mcp.settings import ResourceSettings, Settings


class Unresolvable(Exception):
    """A value known only after deployment (or not handled): ``what`` is unknown, ``supply``
    says what to do to give it (a hint)."""

    def __init__(self, what: str, supply: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.supply = supply or "write the value in the template"


class Invalid(Unresolvable):
    """A value of the wrong kind (a mapping where a string belongs, a circular reference): the
    template is wrong, not merely unknown before deployment; ``what`` says what is wrong."""


class _NoValue:
    """``Ref: AWS::NoValue``: the property is left out."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
CIRCULAR = "circular dependency between resources"
SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def resources_hint(logical_id: str, key: str) -> str:
    return f'[tool.sfn-mcp.resources.{logical_id}] {key} = "..."'


@dataclass(frozen=True)
class Env:
    """What a template cannot say about where it is deployed."""

    account: str | None
    region: str | None
    partition: str
    stack_name: str | None

    @property
    def url_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    def need(self, key: str) -> str:
        value = self.account if key == "account" else self.region
        if not value:
            raise Unresolvable(
                f"the {key} is not set",
                f'set {key} = "..." in [tool.sfn-mcp] (where it is deployed)',
            )
        return value


def _arn(service: str, resource: str, *, regional: bool = True) -> Callable[[Env, str], str]:
    def build(env: Env, name: str) -> str:
        region = env.need("region") if regional else ""
        return f"arn:{env.partition}:{service}:{region}:{env.need('account')}:{resource}{name}"

    return build


def _s3_arn(env: Env, name: str) -> str:
    return f"arn:{env.partition}:s3:::{name}"


def _queue_url(env: Env, name: str) -> str:
    return f"https://sqs.{env.need('region')}.{env.url_suffix}/{env.need('account')}/{name}"


@dataclass(frozen=True)
class Kind:
    """What ``Ref`` and ``GetAtt`` give for one resource type, from its physical name."""

    name_property: str  # the property holding the physical name (else CloudFormation makes one)
    ref: str  # "name", "arn" or another attribute of ``attributes``
    arn: Callable[[Env, str], str] | None
    attributes: Mapping[str, str]  # GetAtt attribute → "name", "arn" or "version" or "url"
    url: Callable[[Env, str], str] | None = None


_LAMBDA = Kind("FunctionName", "name", _arn("lambda", "function:"), {"Arn": "arn"})
_MACHINE = Kind("StateMachineName", "arn", _arn("states", "stateMachine:"), {"Arn": "arn"})
RESOURCE_KINDS: dict[str, Kind] = {
    "AWS::Lambda::Function": _LAMBDA,
    "AWS::Serverless::Function": _LAMBDA,
    "AWS::DynamoDB::Table": Kind("TableName", "name", _arn("dynamodb", "table/"), {"Arn": "arn"}),
    "AWS::Serverless::SimpleTable": Kind("TableName", "name", None, {}),
    "AWS::S3::Bucket": Kind("BucketName", "name", _s3_arn, {"Arn": "arn"}),
    "AWS::SQS::Queue": Kind(
        "QueueName",
        "url",
        _arn("sqs", ""),
        {"Arn": "arn", "QueueName": "name", "QueueUrl": "url"},
        url=_queue_url,
    ),
    "AWS::SNS::Topic": Kind(
        "TopicName", "arn", _arn("sns", ""), {"TopicArn": "arn", "TopicName": "name"}
    ),
    "AWS::IAM::Role": Kind("RoleName", "name", None, {"Arn": "arn"}),  # ARN: see _role_arn
    "AWS::StepFunctions::StateMachine": Kind(
        _MACHINE.name_property, "arn", _MACHINE.arn, {"Arn": "arn", "Name": "name"}
    ),
    "AWS::Serverless::StateMachine": Kind(
        "Name", "arn", _MACHINE.arn, {"Arn": "arn", "Name": "name"}
    ),
    "AWS::StepFunctions::Activity": Kind(
        "Name", "arn", _arn("states", "activity:"), {"Name": "name"}
    ),
    "AWS::EventSchemas::Registry": Kind(
        "RegistryName",
        "arn",
        _arn("schemas", "registry/"),
        {"RegistryArn": "arn", "RegistryName": "name"},
    ),
    # The schema's ARN also needs its registry: see Resolver._schema_arn.
    "AWS::EventSchemas::Schema": Kind(
        "SchemaName",
        "arn",
        None,
        {"SchemaArn": "arn", "SchemaName": "name", "SchemaVersion": "version"},
    ),
    "AWS::Events::EventBus": Kind(
        "Name", "name", _arn("events", "event-bus/"), {"Arn": "arn", "Name": "name"}
    ),
    "AWS::Logs::LogGroup": Kind("LogGroupName", "name", None, {"Arn": "arn"}),
}
PSEUDO_UNKNOWN = ("AWS::StackId", "AWS::NotificationARNs")
SCHEMA_DEFAULT_VERSION = "1"  # what the registry gives a new schema


def is_intrinsic(value: Any) -> bool:
    """A one-key mapping whose key is ``Ref``, ``Condition`` or ``Fn::…`` (as SAM tells them)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))


def is_dynamic_reference(value: Any) -> bool:
    return isinstance(value, str) and "{{resolve:" in value


class Resolver:
    """Resolves the intrinsics of one template."""

    def __init__(
        self,
        template: Mapping[str, Any],
        settings: Settings,
        *,
        overrides: Mapping[str, ResourceSettings] | None = None,
        env: Env | None = None,
    ) -> None:
        """``overrides``: the ``[tool.sfn-mcp.resources]`` that apply to this template, by
        logical id (default: the settings' as they are); ``env``: where it is deployed (default:
        the settings')."""
        self.template = template
        self.settings = settings
        self.overrides = settings.resources if overrides is None else overrides
        self.env = env or Env(
            settings.account, settings.region, settings.partition, settings.stack_name
        )
        self.resources: Mapping[str, Any] = _mapping(template.get("Resources"))
        self.parameters: Mapping[str, Any] = _mapping(template.get("Parameters"))
        self.mappings: Mapping[str, Any] = _mapping(template.get("Mappings"))
        self.conditions: Mapping[str, Any] = _mapping(template.get("Conditions"))
        self._evaluating: set[str] = set()
        self._within: list[str] = []  # the resources whose properties are being resolved
        # While a definition is resolved: the placeholders left for what is not known.
        self._placeholders: list[tuple[str, Unresolvable]] | None = None
        transform = template.get("Transform")
        transforms = transform if isinstance(transform, list) else [transform]
        self.language_extensions = "AWS::LanguageExtensions" in transforms

    def with_placeholders(self, value: Any) -> tuple[Any, list[tuple[str, Unresolvable]]]:
        """``value`` (a definition, or its text) resolved, where each piece of it that is not
        known before deployment (a ``Ref``, a ``Fn::GetAtt``, a ``${Name}`` of a ``Fn::Sub``, an
        item of a ``Fn::Join``, an ``Fn::ImportValue``…) becomes the visible placeholder
        ``${Name}``: the value, and each placeholder with why it is one."""
        found: list[tuple[str, Unresolvable]] = []
        saved, self._placeholders = self._placeholders, found
        try:
            return self._pieces(value), found
        finally:
            self._placeholders = saved

    def _pieces(self, value: Any) -> Any:
        if is_intrinsic(value):
            if next(iter(value)) in ("Fn::Sub", "Fn::Join"):
                return self.resolve(value)  # their parts are the pieces
            return self._guarded(lambda: self.resolve(value), _placeholder(value))
        if isinstance(value, dict):
            resolved = {k: self._pieces(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [v for v in (self._pieces(v) for v in value) if v is not NO_VALUE]
        if is_dynamic_reference(value):
            return self._guarded(lambda: self.resolve(value), _placeholder(value))
        return value

    def _guarded(self, compute: Callable[[], Any], placeholder: str) -> Any:
        """``compute()``, strictly; in ``with_placeholders``, an unknown value gives
        ``placeholder`` (a wrong one is still an error)."""
        active = self._placeholders
        if active is None:
            return compute()
        self._placeholders = None
        try:
            return compute()
        except Invalid:
            raise
        except Unresolvable as exc:
            active.append((placeholder, exc))
            return placeholder
        finally:
            self._placeholders = active

    def override(self, logical_id: str) -> ResourceSettings:
        return self.overrides.get(logical_id, ResourceSettings())

    def _property(self, logical_id: str, value: Any) -> str:
        """A property of ``logical_id`` resolved to a string, with a resource that needs itself
        (through others or directly) reported as CloudFormation's circular dependency."""
        if logical_id in self._within:
            chain = [*self._within[self._within.index(logical_id) :], logical_id]
            raise Invalid(
                f"{CIRCULAR}: {' -> '.join(chain)}",
                "break the cycle: write one of the values in the template",
            )
        self._within.append(logical_id)
        try:
            return self.string(value)
        finally:
            self._within.pop()

    def resource_condition(self, logical_id: str) -> tuple[str, bool] | None:
        """The resource's ``Condition`` and whether it holds (None: it has none)."""
        resource = _mapping(self.resources.get(logical_id))
        if "Condition" not in resource:
            return None
        name = resource["Condition"]
        if not isinstance(name, str):
            raise Invalid(f"its Condition must be a condition's name, got {_kind(name)}")
        return name, self.condition(name)

    # --- the entry points -------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic replaced by its value (``NO_VALUE`` dropped)."""
        if isinstance(value, dict):
            if is_intrinsic(value):
                key, argument = next(iter(value.items()))
                return self._function(key, argument)
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if is_dynamic_reference(value):
            raise Unresolvable(
                f"the dynamic reference {value!r} is resolved only at deployment",
                "write the value in the template",
            )
        return value

    def string(self, value: Any) -> str:
        """``value`` resolved to a string (numbers and booleans as CloudFormation writes them)."""
        resolved = self.resolve(value)
        if isinstance(resolved, str):
            return resolved
        if isinstance(resolved, bool | int | float):
            return json.dumps(resolved)
        raise Invalid(
            f"must be a string, got {_kind(resolved)} ({_show(resolved)})",
            "write it as a string (a JSON document too: quote it, or build it with Fn::Sub, "
            "Fn::Join or Fn::ToJsonString)",
        )

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name.startswith("AWS::"):
            return self._pseudo(name)
        if name in self.parameters:
            return self._parameter(name)
        if name in self.resources:
            return self.resource_attribute(name, None)
        if "." in name and name.split(".", 1)[0] in self.resources:
            return self.sam_reference(*name.split(".", 1))
        raise Unresolvable(
            f"Ref {name!r} names no parameter or resource of the template",
            "name a parameter or resource of the template",
        )

    def sam_reference(self, logical_id: str, prop: str) -> str:
        """SAM's ``Ref``/``${}`` of ``Function.Alias`` and ``Function.Version``: the resources the
        translator makes for ``AutoPublishAlias``, whose ``Ref`` is the alias ARN
        (``…:function:NAME:ALIAS``) and the version ARN (its number known only after
        deployment)."""
        resource = _mapping(self.resources.get(logical_id))
        kind = resource.get("Type")
        properties = _mapping(resource.get("Properties"))
        what = f"{logical_id}.{prop}"
        if kind != "AWS::Serverless::Function" or prop not in ("Alias", "Version"):
            raise Unresolvable(
                f"Ref {what!r}: {logical_id!r} ({kind}) has no property {prop!r} to refer to",
                "name a parameter or resource of the template",
            )
        if "AutoPublishAlias" not in properties:
            raise Invalid(
                f"Ref {what!r}: {logical_id!r} has no AutoPublishAlias, so SAM makes no "
                f"{prop.lower()} to refer to",
                f"set AutoPublishAlias on {logical_id}, or refer to {logical_id} itself",
            )
        if prop == "Version":
            raise Unresolvable(
                f"Ref {what!r}: the version SAM publishes for {logical_id!r} is numbered at "
                "deployment",
                f"refer to {logical_id}.Alias, the alias that points to it",
            )
        alias = self._property(logical_id, properties["AutoPublishAlias"])
        return f"{self.resource_attribute(logical_id, 'Arn')}:{alias}"

    def resource_attribute(self, logical_id: str, attribute: str | None) -> str:
        """What ``Ref`` (``attribute`` None) or ``Fn::GetAtt`` gives for a resource."""
        resource = _mapping(self.resources.get(logical_id))
        if not resource:
            raise Unresolvable(
                f"{'Ref' if attribute is None else 'Fn::GetAtt'} {logical_id!r} names no resource"
                " of the template",
                "name a parameter or resource of the template",
            )
        kind_name = str(resource.get("Type", ""))
        kind = RESOURCE_KINDS.get(kind_name)
        what = "Ref" if attribute is None else f"Fn::GetAtt {logical_id}.{attribute}"
        if kind is None:
            raise Unresolvable(
                f"{what} of {logical_id!r} ({kind_name}): sfn-mcp does not know what it gives "
                "before deployment",
                f"write the value in the template, or set {resources_hint(logical_id, 'arn')}",
            )
        role = kind.ref if attribute is None else kind.attributes.get(attribute)
        if role is None:
            raise Unresolvable(
                f"{what} ({kind_name}) is known only after deployment",
                "write the value in the template",
            )
        if role == "version":
            return self.schema_version(logical_id)[0]
        override = self.override(logical_id)
        if role == "arn" and override.arn:
            return override.arn
        name = self.physical_name(logical_id)
        if role == "name":
            return name
        if role == "url" and kind.url:
            return kind.url(self.env, name)
        if kind_name == "AWS::IAM::Role":
            return self._role_arn(logical_id, resource, name)
        if kind_name == "AWS::Logs::LogGroup":
            return (
                f"arn:{self.env.partition}:logs:{self.env.need('region')}:"
                f"{self.env.need('account')}:log-group:{name}:*"
            )
        if kind_name == "AWS::EventSchemas::Schema":
            return self._schema_arn(logical_id, name)
        assert kind.arn is not None
        return kind.arn(self.env, name)

    def physical_name(self, logical_id: str) -> str:
        """The resource's name: ``resources.<id>.name``, else its name property, else (for a
        state machine) the end of ``resources.<id>.arn``; else unresolvable."""
        override = self.override(logical_id)
        if override.name:
            return override.name
        resource = _mapping(self.resources.get(logical_id))
        kind = RESOURCE_KINDS.get(str(resource.get("Type", "")))
        properties = _mapping(resource.get("Properties"))
        from_arn = (
            override.arn.rsplit(":stateMachine:", 1)[1].split(":")[0]
            if override.arn and ":stateMachine:" in override.arn
            else ""
        )
        if kind and kind.name_property in properties:
            try:
                return self._property(logical_id, properties[kind.name_property])
            except Invalid as exc:
                if exc.what.startswith(CIRCULAR):
                    raise
                raise Invalid(
                    f"the name of {logical_id!r} ({kind.name_property}): {exc.what}", exc.supply
                ) from None
            except Unresolvable as exc:
                if from_arn:
                    return from_arn
                raise Unresolvable(
                    f"the name of {logical_id!r} ({kind.name_property}): {exc.what}",
                    f"{exc.supply}, or set {resources_hint(logical_id, 'name')}",
                ) from None
        if from_arn:
            return from_arn
        prop = kind.name_property if kind else "name"
        raise Unresolvable(
            f"{logical_id!r} has no {prop}, so CloudFormation makes its name at deployment",
            f"set {prop} in the template, or set {resources_hint(logical_id, 'name')}",
        )

    def schema_version(self, logical_id: str) -> tuple[str, bool]:
        """A template schema's version and whether it is the default (``resources.<id>``)."""
        pinned = self.override(logical_id).version
        return (pinned, False) if pinned else (SCHEMA_DEFAULT_VERSION, True)

    # --- the functions ---------------------------------------------------------------------

    def _function(self, key: str, argument: Any) -> Any:
        handlers: dict[str, Callable[[Any], Any]] = {
            "Ref": lambda a: self.ref(self.string(a)),
            "Fn::GetAtt": self._getatt,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::If": self._if,
            "Fn::Base64": lambda a: base64.b64encode(self.string(a).encode()).decode(),
            "Fn::ToJsonString": self._to_json_string,
            "Fn::Length": self._length,
        }
        handler = handlers.get(key)
        if key == "Fn::ImportValue":
            raise Unresolvable(
                f"Fn::ImportValue {_show(argument)} is another stack's output, known only after "
                "deployment",
                "write the value in the template, or pass it as a parameter and set it in "
                "[tool.sfn-mcp.parameters]",
            )
        if handler is None:
            raise Unresolvable(
                f"{key} is not resolved by sfn-mcp", "write the value in the template"
            )
        return handler(argument)

    def _extension(self, key: str) -> None:
        if not self.language_extensions:
            raise Invalid(
                f"{key} needs the transform AWS::LanguageExtensions, which the template does not "
                "declare",
                "add Transform: AWS::LanguageExtensions to the template",
            )

    def _to_json_string(self, argument: Any) -> str:
        """CloudFormation's compact JSON of the resolved value (``{"a":1}``, no spaces)."""
        self._extension("Fn::ToJsonString")
        value = self.resolve(argument)
        if not isinstance(value, dict | list):
            raise Invalid(
                f"Fn::ToJsonString takes an object or a list, got {_kind(value)}",
                "give Fn::ToJsonString an object or a list",
            )
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def _length(self, argument: Any) -> int:
        self._extension("Fn::Length")
        value = self.resolve(argument)
        if not isinstance(value, list):
            raise Invalid(f"Fn::Length takes a list, got {_kind(value)}", "give Fn::Length a list")
        return len(value)

    def _getatt(self, argument: Any) -> str:
        if isinstance(argument, str) and "." in argument:
            logical_id, attribute = argument.split(".", 1)
        elif isinstance(argument, list) and len(argument) == 2:
            logical_id, attribute = self.string(argument[0]), self.string(argument[1])
        else:
            raise Unresolvable(
                f"Fn::GetAtt {_show(argument)} is malformed",
                "write it as [LogicalId, Attribute] or LogicalId.Attribute",
            )
        return self.resource_attribute(logical_id, attribute)

    def _sub(self, argument: Any) -> str:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, str):
            text = argument
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], _mapping(argument[1])
        else:
            raise Unresolvable(
                f"Fn::Sub {_show(argument)} is malformed",
                "write it as a string or [string, {variables}]",
            )

        def replace(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            return str(self._guarded(lambda: variable(inner.strip()), match.group(0)))

        def variable(name: str) -> str:
            if name in variables:
                return self.string(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                if (
                    attribute in ("Alias", "Version")
                    and _mapping(self.resources.get(logical_id)).get("Type")
                    == "AWS::Serverless::Function"
                ):
                    return self.sam_reference(logical_id, attribute)
                return self.resource_attribute(logical_id, attribute)
            return self.string({"Ref": name})

        return SUB_PLACEHOLDER.sub(replace, text)

    def _join(self, argument: Any) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolvable(
                f"Fn::Join {_show(argument)} is malformed", "write it as [delimiter, [values]]"
            )
        delimiter = self.string(argument[0])
        if self._placeholders is not None and isinstance(argument[1], list):
            pieces = [
                self._join_piece(item)
                for item in argument[1]
                if not (isinstance(item, dict) and item == {"Ref": "AWS::NoValue"})
            ]
            return delimiter.join(pieces)
        items = self.resolve(argument[1])
        if not isinstance(items, list):
            raise Invalid(f"Fn::Join of {_kind(items)}, not a list", "join a list of values")
        return delimiter.join(self.string(item) for item in items)

    def _join_piece(self, item: Any) -> str:
        if not is_intrinsic(item) or next(iter(item)) in ("Fn::Sub", "Fn::Join"):
            return self.string(item)
        return str(self._guarded(lambda: self.string(item), _placeholder(item)))

    def _select(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolvable(
                f"Fn::Select {_show(argument)} is malformed", "write it as [index, [values]]"
            )
        index_text = self.string(argument[0])
        items = self.resolve(argument[1])
        if not index_text.isdigit() or not isinstance(items, list):
            raise Unresolvable(
                f"Fn::Select {_show(argument)} is malformed", "write it as [index, [values]]"
            )
        index = int(index_text)
        if index >= len(items):
            raise Unresolvable(f"Fn::Select index {index} is past the list's {len(items)} items")
        return items[index]

    def _split(self, argument: Any) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolvable(
                f"Fn::Split {_show(argument)} is malformed", "write it as [delimiter, text]"
            )
        delimiter = self.string(argument[0])
        if not delimiter:
            raise Unresolvable("Fn::Split with an empty delimiter", "give Fn::Split a delimiter")
        return self.string(argument[1]).split(delimiter)

    def _find_in_map(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            raise Unresolvable(
                f"Fn::FindInMap {_show(argument)} is malformed",
                "write it as [map, top key, second key]",
            )
        names = [self.string(a) for a in argument[:3]]
        table = _mapping(_mapping(self.mappings.get(names[0])).get(names[1]))
        if names[2] in table:
            return self.resolve(table[names[2]])
        default = _mapping(argument[3]) if len(argument) == 4 else {}
        if "DefaultValue" in default:
            return self.resolve(default["DefaultValue"])
        raise Unresolvable(
            f"Fn::FindInMap {'/'.join(names)} is not in the template's Mappings",
            "add the entry to Mappings",
        )

    def _if(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise Unresolvable(
                f"Fn::If {_show(argument)} is malformed",
                "write it as [condition, value if true, value if false]",
            )
        chosen = argument[1] if self.condition(self.string(argument[0])) else argument[2]
        return self.resolve(chosen)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise Invalid(
                f"condition {name!r} is not in the template's Conditions",
                "declare it under Conditions, or fix its name",
            )
        if name in self._evaluating:
            raise Invalid(
                f"condition {name!r} refers to itself",
                "break the cycle in the template's Conditions",
            )
        self._evaluating.add(name)
        try:
            return self._truth(self.conditions[name])
        finally:
            self._evaluating.discard(name)

    def _truth(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, dict) and len(value) == 1:
            key, argument = next(iter(value.items()))
            items = argument if isinstance(argument, list) else []
            if key == "Condition":
                return self.condition(self.string(argument))
            if key == "Fn::Equals" and len(items) == 2:
                left, right = (self.resolve(item) for item in items)
                return _equal(left, right)
            if key == "Fn::Not" and len(items) == 1:
                return not self._truth(items[0])
            if key == "Fn::And" and items:
                return all(self._truth(item) for item in items)
            if key == "Fn::Or" and items:
                return any(self._truth(item) for item in items)
        raise Unresolvable(f"the condition {_show(value)} is not resolved by sfn-mcp")

    # --- parameters and names --------------------------------------------------------------

    def _pseudo(self, name: str) -> str:
        env = self.env
        if name == "AWS::AccountId":
            return env.need("account")
        if name == "AWS::Region":
            return env.need("region")
        if name == "AWS::Partition":
            return env.partition
        if name == "AWS::URLSuffix":
            return env.url_suffix
        if name == "AWS::StackName":
            if env.stack_name:
                return env.stack_name
            raise Unresolvable(
                "AWS::StackName: the stack name is not set",
                'set stack-name = "..." in [tool.sfn-mcp]',
            )
        if name in PSEUDO_UNKNOWN:
            raise Unresolvable(
                f"{name} is known only after deployment", "write the value in the template"
            )
        raise Unresolvable(
            f"{name} is no pseudo parameter", "use a pseudo parameter CloudFormation has"
        )

    def _parameter(self, name: str) -> Any:
        declared = _mapping(self.parameters.get(name))
        kind = str(declared.get("Type", "String"))
        if name in self.settings.parameters:
            value: Any = self.settings.parameters[name]
        elif "Default" in declared and not kind.startswith("AWS::SSM::Parameter::Value"):
            value = declared["Default"]
        else:
            why = "its Default is an SSM parameter name" if "Default" in declared else "no Default"
            raise Unresolvable(
                f"parameter {name!r} has no value ({why})",
                f'set [tool.sfn-mcp.parameters] {name} = "..."',
            )
        if isinstance(value, dict | list) or value is None:
            raise Invalid(
                f"parameter {name!r}: its "
                f"{'value' if name in self.settings.parameters else 'Default'} must be a string "
                f"or a number, got {_kind(value)}",
                f"write the {name} parameter's Default as a string (intrinsics are not allowed "
                "in Parameters)",
            )
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            return [part.strip() for part in str(value).split(",")]
        return value if isinstance(value, str) else json.dumps(value)

    def _role_arn(self, logical_id: str, resource: Mapping[str, Any], name: str) -> str:
        path = "/"
        properties = _mapping(resource.get("Properties"))
        if "Path" in properties:
            path = self._property(logical_id, properties["Path"])
        return f"arn:{self.env.partition}:iam::{self.env.need('account')}:role{path}{name}"

    def _schema_arn(self, logical_id: str, name: str) -> str:
        properties = _mapping(_mapping(self.resources.get(logical_id)).get("Properties"))
        try:
            registry = self._property(logical_id, properties.get("RegistryName", ""))
        except Invalid:
            raise
        except Unresolvable as exc:
            raise Unresolvable(
                f"the registry of {logical_id!r}: {exc.what}",
                f"{exc.supply}, or set {resources_hint(logical_id, 'arn')}",
            ) from None
        if not registry:
            raise Unresolvable(
                f"{logical_id!r} has no RegistryName", "give the schema its RegistryName"
            )
        if registry.startswith("arn:") and ":registry/" in registry:  # a Ref of the registry
            registry = registry.rsplit(":registry/", 1)[1]
        return (
            f"arn:{self.env.partition}:schemas:{self.env.need('region')}:"
            f"{self.env.need('account')}:schema/{registry}/{name}"
        )


def _equal(left: Any, right: Any) -> bool:
    def text(value: Any) -> Any:
        return value if isinstance(value, str | list) else json.dumps(value)

    return bool(text(left) == text(right))


def _placeholder(value: Any) -> str:
    """The visible ``${…}`` left in a definition for a value not known before deployment."""
    if isinstance(value, str):  # a dynamic reference
        return "${" + value.strip("{}") + "}"
    key, argument = next(iter(value.items()))
    if key == "Ref" and isinstance(argument, str):
        return "${" + argument + "}"
    if key == "Fn::GetAtt":
        if isinstance(argument, list) and all(isinstance(a, str) for a in argument):
            return "${" + ".".join(argument) + "}"
        if isinstance(argument, str):
            return "${" + argument + "}"
    if key == "Fn::ImportValue" and isinstance(argument, str):
        return "${ImportValue:" + argument + "}"
    return "${" + str(key) + "}"


def _kind(value: Any) -> str:
    """What a value is, in words: "a mapping", "a list", "nothing"…"""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:120] + " …"
