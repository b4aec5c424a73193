"""``sfn-mcp diff``: compare two tool surfaces (``surface.json``) and say what breaks clients.

A surface is the reviewable contract of a generated server: its tools, their state machines and
the JSON Schemas they publish. ``load_surface`` reads one from a file, a package directory or a git
revision; ``compare`` lists the differences as ``Change`` records; ``render_text``,
``render_markdown`` and ``render_json`` format them for a terminal, a pull-request comment and
machines.

Where a surface comes from (``load_surface(spec, manifest_path=...)``):

- an existing file is read as ``surface.json``; an existing directory must contain one. A spec
  that is both an existing path and a revision name is the path (``./main`` and ``main^{commit}``
  are unambiguous spellings of each);
- anything else is a git revision: ``git show REV:./<manifest>``, run in the manifest's directory
  (or its nearest existing parent), so it works from any folder of the checkout. A revision that
  exists but has no manifest yet is an empty surface with a note, so the pull request that first
  commits the surface lists every tool as added instead of failing. An unknown revision, a folder
  outside any git repository, invalid JSON or an unknown ``surfaceFormat`` is a ``CompileError``.

How a change is classified. Schemas are compared as sets of accepted values: each change
*narrows* (fewer values valid), *widens* (more values valid), does *both*, or only touches
annotations. Input schemas are what callers send, so narrowing breaks them; output schemas are what
callers receive, so widening breaks them. Local ``$ref`` s (``#/$defs/...``) are resolved in each
document (siblings of a ``$ref`` override the target; recursive definitions are walked once per
pair). ``allOf`` parts and their siblings are intersected into one schema: the tightest bounds and
lengths, types, ``enum`` s and ``const`` s that every part allows, the union of ``required``,
``properties`` merged by name (recursively); what one schema cannot say (two different patterns)
stays in an ``allOf`` reviewed by hand. ``anyOf``/``oneOf`` members and ``type`` lists are matched
by type; among several of one type, identical members pair first, then those with the same class
title, then the most alike, then by position, so reordering a union changes nothing. JSON numbers
compare by value (``1`` is ``1.0``, never ``true``). The walk recurses through ``properties``,
``items`` and ``additionalProperties``. Paths read ``input.customer.email``,
``output.output.total``; ``[]`` is an array's items, ``*`` an object's additional properties and
``<Card>`` one member of a union of several.

Tool and server level (severity does not depend on a side):

============================= ============ =====================================================
Code                          Severity     When
============================= ============ =====================================================
tool-removed                  breaking     a tool is gone (callers get "unknown tool")
tool-renamed                  breaking     the same state machine ARN under another name: one
                                           change, not removed + added; the two contracts are
                                           then compared under the new name
workflow-type-changed         breaking     EXPRESS <-> STANDARD (a result vs RUNNING + an ARN,
                                           the 5-minute limit, retries)
output-schema-removed         breaking     the tool no longer declares an output schema
package-renamed               breaking     ``python -m <package>`` in client configurations
tool-added                    non-breaking a new tool
state-machine-changed         non-breaking another state machine ARN, or one gained or lost
                                           (``stateMachine: null``, e.g. get_execution)
definition-changed            non-breaking definitionSha256 differs with the same contract:
                                           behaviour may change
title-changed                 non-breaking the tool's title (also a schema's, below)
description-changed           non-breaking the tool's description (also a schema's, below)
annotation-changed            non-breaking one per MCP hint (readOnly, destructive, idempotent,
                                           openWorld, title), each called out
schema-version-changed        non-breaking input/outputSchemaSource version (its schema diff is
                                           listed separately)
schema-source-changed         non-breaking input/outputSchemaSource ARN changed, added or removed
output-schema-added           non-breaking the tool now declares an output schema
server-renamed                non-breaking the server name clients see in ``initialize``
wait-changed                  non-breaking stateMachine.maxWaitSeconds: how long a STANDARD call
                                           waits before returning RUNNING
cancel-behaviour-changed      non-breaking stateMachine.stopOnCancel: whether a cancelled call
                                           stops the execution
tool-metadata-changed         non-breaking a tool or stateMachine key this version does not know
                                           (or one the old surface did not record yet)
============================= ============ =====================================================

Schema level (``input`` is the inputSchema, ``output`` the outputSchema):

============================= ============ ============ =======================================
Code                          input        output       When
============================= ============ ============ =======================================
required-field-added          breaking     non-breaking a new required property
field-added                   non-breaking non-breaking a new optional property
field-removed                 breaking [1] breaking     a property is gone
field-now-required            breaking     non-breaking optional -> required
field-no-longer-required      non-breaking breaking     required -> optional (may be absent)
type-changed                  breaking     breaking     incompatible types (string -> integer)
type-narrowed                 breaking     non-breaking number -> integer, a union member
                                                        removed, any value -> a type
type-widened                  non-breaking breaking     the reverse
null-removed                  breaking     non-breaking nullable -> non-null
null-added                    non-breaking breaking     non-null -> nullable
enum-value-removed            breaking     non-breaking one change per value
enum-value-added              non-breaking breaking     one change per value
enum-added                    breaking     non-breaking a free value becomes an enum (string ->
                                                        enum class)
enum-removed                  non-breaking breaking     an enum becomes a free value
const-added                   breaking     non-breaking a fixed value appears
const-removed                 non-breaking breaking     a fixed value is gone
const-changed                 breaking     breaking     another fixed value
constraint-added              breaking     non-breaking a new min/maxLength, min/maxItems,
                                                        min/maxProperties, minimum, maximum,
                                                        exclusiveMin/Maximum, multipleOf,
                                                        pattern, format, uniqueItems
constraint-tightened          breaking     non-breaking max* down, min* up, a bound made
                                                        exclusive, multipleOf to a multiple
constraint-relaxed            non-breaking breaking     the reverse
constraint-removed            non-breaking breaking     a constraint is gone
constraint-changed            breaking     breaking     pattern or format replaced, multipleOf
                                                        to an unrelated step
additional-properties-closed  breaking     non-breaking additionalProperties true -> false
additional-properties-opened  non-breaking non-breaking additionalProperties false -> true
default-added, default-       non-breaking non-breaking called out: callers that leave the
changed, default-removed                                field out now send another value
title-changed, description-   non-breaking non-breaking a field's or class's words
changed, annotation-changed                             (annotation: examples, deprecated...)
keyword-changed               breaking     breaking     a keyword this walk does not classify
                                                        (not, if/then/else, prefixItems,
                                                        patternProperties, a remote $ref...)
                                                        changed: review it by hand
============================= ============ ============ =======================================

[1] Only when the object is closed (``additionalProperties: false``): callers that still send the
field are rejected. From an open object it is non-breaking but reported: the value is still
accepted as an extra property, only no longer described, and the workflow may ignore it.

Deliberate simplifications: a new optional input field is non-breaking even on an open object
(where its value was unconstrained before); ``anyOf`` and ``oneOf`` are compared alike; output
fields added and output objects opened are non-breaking (clients ignore what they do not read);
changes inside a ``$defs`` entry are reported at every path that uses it.

The command, ``sfn-mcp diff OLD [NEW]``: NEW defaults to the working tree's manifest (settings
``output``/``name``/surface.json, or ``--manifest``), so ``sfn-mcp diff main`` reviews the current
checkout against main, uncommitted changes included. It exits 0 whatever it finds unless
``--fail-on breaking|any`` asks otherwise (then 1), and 2 on errors, with the usual
``error:``/``hint:`` lines and no traceback.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

from sfn_mcp.diagnostics import CompileError
from sfn_mcp.schema_refs import resolve_ref
from sfn_mcp.settings import load_settings
from sfn_mcp.surface import FORMAT, MANIFEST

SURFACE_FORMAT: Final = FORMAT
MANIFEST_NAME: Final = MANIFEST
GIT_TIMEOUT_SECONDS: Final = 60
MAX_DEPTH: Final = 200  # nesting guard on top of the $ref cycle guard

Severity = Literal["breaking", "non-breaking"]
Side = Literal["input", "output"]
Effect = Literal["narrow", "widen", "both", "none"]
BREAKING: Final[Severity] = "breaking"
NON_BREAKING: Final[Severity] = "non-breaking"


class _Absent:
    """Marks an ``old``/``new`` value that does not exist (``None`` is JSON null)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


@dataclass(frozen=True)
class Change:
    """One difference between two surfaces.

    ``tool`` is the tool's (new) name, or ``""`` for the server itself; ``path`` says where
    (``input.customer.email``, ``stateMachine.type``, ``tool``); ``old``/``new`` hold the values
    involved, or ``ABSENT``.
    """

    tool: str
    severity: Severity
    code: str
    path: str
    message: str
    old: Any = ABSENT
    new: Any = ABSENT

    @property
    def breaking(self) -> bool:
        return self.severity == BREAKING

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tool": self.tool,
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "message": self.message,
        }
        if self.old is not ABSENT:
            data["old"] = self.old
        if self.new is not ABSENT:
            data["new"] = self.new
        return data


@dataclass(frozen=True)
class Surface:
    """A loaded ``surface.json``: its tools by name, where it came from, and notes for the reader
    (``exists`` is false for a revision that predates the manifest)."""

    label: str
    tools: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    server: str | None = None
    package: str | None = None
    notes: tuple[str, ...] = ()
    exists: bool = True


# ---------------------------------------------------------------------------------------------
# Loading


def parse_surface(data: Any, *, label: str) -> Surface:
    """Check the shape of a decoded ``surface.json`` and index its tools by name."""
    if not isinstance(data, dict) or "surfaceFormat" not in data:
        raise CompileError(
            f"{label} is not an sfn-mcp tool surface (no surfaceFormat)",
            hint="pass the surface.json of a generated package, or its package directory",
        )
    if data["surfaceFormat"] != SURFACE_FORMAT:
        raise CompileError(
            f"{label} has surfaceFormat {data['surfaceFormat']!r}; this sfn-mcp reads format "
            f"{SURFACE_FORMAT}",
            hint="compare with the sfn-mcp version that generated it, or regenerate both sides "
            "with this one",
        )
    hint = "regenerate it with `sfn-mcp generate` instead of editing it by hand"
    raw_tools = data.get("tools", [])
    if not isinstance(raw_tools, list):
        raise CompileError(f"{label}: 'tools' must be a list", hint=hint)
    tools: dict[str, Mapping[str, Any]] = {}
    for index, tool in enumerate(raw_tools):
        name = tool.get("name") if isinstance(tool, dict) else None
        if not isinstance(name, str) or not name:
            raise CompileError(f"{label}: tools[{index}] has no name", hint=hint)
        if name in tools:
            raise CompileError(f"{label}: tool {name!r} appears twice", hint=hint)
        tools[name] = tool
    server, package = data.get("server"), data.get("package")
    return Surface(
        label=label,
        tools=tools,
        server=server if isinstance(server, str) else None,
        package=package if isinstance(package, str) else None,
    )


def _decode(content: bytes, label: str) -> Surface:
    hint = "regenerate it with `sfn-mcp generate` (and resolve any merge conflict in it)"
    try:
        data = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CompileError(f"{label} is not UTF-8 text: {exc}", hint=hint) from exc
    except json.JSONDecodeError as exc:
        raise CompileError(f"{label} is not valid JSON: {exc}", hint=hint) from exc
    return parse_surface(data, label=label)


def _load_path(path: Path, label: str) -> Surface:
    if path.is_dir():
        # the output folder (generated/) holding one package is as good as the package
        inner = sorted(path.glob(f"*/{MANIFEST_NAME}"))
        if not (path / MANIFEST_NAME).is_file() and len(inner) == 1:
            path, label = inner[0].parent, str(Path(label) / inner[0].parent.name)
        if not (path / MANIFEST_NAME).is_file():
            raise CompileError(
                f"{label} is a directory without {MANIFEST_NAME}",
                hint="pass a generated package directory, or regenerate it with `sfn-mcp "
                "generate` (packages from older versions have no surface)",
            )
        path = path / MANIFEST_NAME
        label = str(Path(label) / MANIFEST_NAME)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CompileError(f"cannot read {label}: {exc.strerror}") from exc
    return _decode(content, label)


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CompileError(
            "git is not installed (or not on PATH), so revisions cannot be read",
            hint="install git, or pass surface.json files or package directories",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CompileError(f"git {' '.join(args)} took over {GIT_TIMEOUT_SECONDS} s") from exc


def _first_line(stream: bytes) -> str:
    lines = stream.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "no message"


def _load_revision(rev: str, manifest_path: Path) -> Surface:
    manifest = (Path.cwd() / manifest_path).resolve()
    run_dir = manifest.parent
    while not run_dir.is_dir():
        run_dir = run_dir.parent
    toplevel = _git(["rev-parse", "--show-toplevel"], run_dir)
    if toplevel.returncode != 0:
        raise CompileError(
            f"{rev!r} is not an existing file or directory, and {run_dir} is not in a git "
            f"repository, so it cannot be a revision either ({_first_line(toplevel.stderr)})",
            hint="pass a surface.json file or a package directory, or run inside the repository "
            "that holds the manifest",
        )
    root = Path(toplevel.stdout.decode("utf-8", "replace").strip()).resolve()
    if not manifest.is_relative_to(root):
        raise CompileError(
            f"the manifest {manifest} is outside the git repository {root}",
            hint="pass --manifest with a path inside the repository",
        )
    in_repo = manifest.relative_to(root).as_posix()
    label = f"{rev}:{in_repo}"
    commit = _git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], root
    )
    if commit.returncode != 0:
        raise CompileError(
            f"{rev!r} is neither an existing file or directory nor a revision of {root}",
            hint="pass a surface.json file, a package directory, or a git revision (a branch, a "
            "tag, a commit, HEAD~1); in CI, fetch it first (actions/checkout with "
            "fetch-depth: 0, or `git fetch origin main`)",
        )
    relative = manifest.relative_to(run_dir).as_posix()
    object_name = f"{rev}:./{relative}"
    kind = _git(["cat-file", "-t", object_name], run_dir)
    if kind.returncode != 0:
        note = f"{rev} has no {in_repo} yet: it counts as a surface without tools"
        return Surface(label=label, notes=(note,), exists=False)
    if kind.stdout.strip() != b"blob":
        raise CompileError(f"{label} is a {kind.stdout.decode().strip()}, not a file")
    shown = _git(["show", object_name], run_dir)
    if shown.returncode != 0:
        raise CompileError(f"git show {object_name} failed: {_first_line(shown.stderr)}")
    return _decode(shown.stdout, label)


def load_surface(spec: str, *, manifest_path: Path) -> Surface:
    """Load a surface from ``spec``: a ``surface.json`` file, a package directory containing one,
    or a git revision, at which ``manifest_path`` (relative to the current directory, or absolute)
    is read with ``git show REV:./<path>``. An existing path wins over a revision of the same name.
    A revision without the manifest gives an empty surface with a note (``exists`` false)."""
    if not spec:
        raise CompileError("an empty surface specification", hint="pass a file, folder or revision")
    if os.path.lexists(spec):
        return _load_path(Path(spec), spec)
    if spec.startswith("-"):
        raise CompileError(f"{spec!r} is not a file, a folder or a revision")
    return _load_revision(spec, manifest_path)


def load_working_tree(manifest_path: Path) -> Surface:
    """The manifest as it is in the working tree (NEW when the command gets only OLD)."""
    if not manifest_path.is_file():
        raise CompileError(
            f"{manifest_path} does not exist",
            hint="run `sfn-mcp generate` first, or pass NEW (a file, folder or revision)",
        )
    return _load_path(manifest_path, f"{manifest_path} (working tree)")


# ---------------------------------------------------------------------------------------------
# Classification


def _severity(effect: Effect, side: Side) -> Severity:
    """Narrowing breaks callers of an input; widening breaks readers of an output."""
    if effect == "both":
        return BREAKING
    if effect == "none":
        return NON_BREAKING
    breaks = effect == "narrow" if side == "input" else effect == "widen"
    return BREAKING if breaks else NON_BREAKING


def _fmt(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _child(path: str, name: str) -> str:
    simple = name and all(c.isalnum() or c in "_-$@" for c in name)
    return f"{path}.{name}" if simple else f"{path}[{json.dumps(name, ensure_ascii=False)}]"


ANNOTATIONS: Final = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"}
    | {"$comment", "discriminator", "contentMediaType", "contentEncoding"}
)
IGNORED: Final = frozenset({"$defs", "definitions", "$schema", "$id", "$anchor"})
UNION: Final = ("anyOf", "oneOf")
# Handled by the walk; any other keyword that differs is a "keyword-changed" (so is an allOf
# left after merging: what the parts say that one schema cannot).
WALKED: Final = frozenset(
    {"type", "enum", "const", "properties", "required", "additionalProperties", "items"}
    | {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}
    | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    | {"pattern", "format", "uniqueItems", "$ref", *UNION}
)
COUNT_MAXIMA: Final = ("maxLength", "maxItems", "maxProperties")
COUNT_MINIMA: Final = ("minLength", "minItems", "minProperties")


# Keywords that only constrain values of one type; the others apply to every value.
TYPE_KEYWORDS: Final = {
    "string": frozenset({"minLength", "maxLength", "pattern", "format"}),
    "number": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    ),
    "array": frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}),
    "object": frozenset(
        {"properties", "required", "additionalProperties", "minProperties", "maxProperties"}
        | {"patternProperties", "propertyNames"}
    ),
}


def _for_type(schema: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """One entry of a ``type`` list as a schema of its own, without the other types' keywords."""
    own = TYPE_KEYWORDS.get("number" if kind == "integer" else kind, frozenset())
    foreign = frozenset().union(*TYPE_KEYWORDS.values()) - own
    return {k: v for k, v in schema.items() if k not in foreign} | {"type": kind}


class _Branch(NamedTuple):
    """One alternative of a (possibly) union schema, with the $refs that led to it."""

    schema: dict[str, Any]
    refs: tuple[str, ...]


def _as_schema(value: Any) -> dict[str, Any]:
    if value is True or value is None:
        return {}
    if value is False:
        return {"not": {}}
    return dict(value) if isinstance(value, dict) else {}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _types(schema: Mapping[str, Any]) -> frozenset[str] | None:
    """The JSON types a schema admits (``None``: any)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(str(t) for t in declared)
    if "const" in schema:
        return frozenset({_json_type(schema["const"])})
    if isinstance(schema.get("enum"), list):
        return frozenset(_json_type(v) for v in schema["enum"])
    return None


def _covers(types: frozenset[str] | None, kind: str) -> bool:
    return types is None or kind in types or (kind == "integer" and "number" in types)


def _type_relation(old: frozenset[str] | None, new: frozenset[str] | None) -> str:
    if old == new:
        return "same"
    if old is None:
        return "narrow"
    if new is None:
        return "widen"
    new_in_old = all(_covers(old, t) for t in new)
    old_in_new = all(_covers(new, t) for t in old)
    if new_in_old and old_in_new:
        return "same"
    if new_in_old:
        return "narrow"
    if old_in_new:
        return "widen"
    overlap = any(_covers(old, t) for t in new) or any(_covers(new, t) for t in old)
    return "both" if overlap else "disjoint"


def _validation(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ANNOTATIONS and k not in IGNORED}


def _annotations(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k in ANNOTATIONS}


def _label(branch: _Branch) -> str:
    """How a union member is named: its class (title or $defs name) or its type."""
    schema = branch.schema
    name = schema.get("title") or (branch.refs[-1].rsplit("/", 1)[-1] if branch.refs else "")
    types = _types(schema)
    kind = "any value" if types is None else "/".join(sorted(types))
    if "const" in schema:
        return f"{kind} {_fmt(schema['const'])}"
    return f"{kind} {name}" if name and types == frozenset({"object"}) else kind


def _family(branch: _Branch) -> str:
    types = _types(branch.schema)
    if types is None:
        return "any"
    families = sorted({"number" if t == "integer" else t for t in types})
    return "|".join(families)


def _is_null(branch: _Branch) -> bool:
    return _types(branch.schema) == frozenset({"null"})


def _distinct(values: Iterable[Any]) -> list[Any]:
    """The values without repeats (JSON numbers by value), in a stable, order-free sequence."""
    unique = {_canonical(value): value for value in values}
    return [unique[key] for key in sorted(unique)]


def _type_set(declared: Any) -> frozenset[str] | None:
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        return frozenset(declared)
    return None


def _meet(kinds: list[frozenset[str]]) -> str | list[str]:
    """The types every part admits (integer is the meet of number and integer)."""
    common = kinds[0]
    for other in kinds[1:]:
        common = frozenset(
            {t for t in common if _covers(other, t)} | {t for t in other if _covers(common, t)}
        )
    return next(iter(common)) if len(common) == 1 else sorted(common)


def _lcm(steps: list[Fraction]) -> Fraction:
    """The least common multiple of positive rationals: the step every part's step divides."""
    result = steps[0]
    for step in steps[1:]:
        result = Fraction(
            math.lcm(result.numerator, step.numerator),
            math.gcd(result.denominator, step.denominator),
        )
    return result


def _intersect(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``allOf`` of resolved schemas as one schema that accepts what all of them accept.

    Annotations come from the first part that has them. ``type`` s, ``enum`` s and ``const`` s
    intersect, numeric bounds and lengths take the tightest, ``multipleOf`` the least common
    multiple, ``required`` the union, ``uniqueItems`` any; ``properties`` merge by name (a
    property of several parts is the ``allOf`` of its schemas), as do ``items`` and
    ``additionalProperties``, and a part that closes its object (``additionalProperties``)
    constrains the properties only the other parts name. What one schema cannot say (two
    patterns, two ``not`` s...) stays in an ``allOf`` of the rest, which the walk reports as a
    ``keyword-changed`` when it differs.
    """
    present: dict[str, list[Any]] = {}
    for part in parts:
        for key, value in part.items():
            present.setdefault(key, []).append(value)
    merged: dict[str, Any] = {}
    rest: list[Any] = [r for part in parts for r in _listed(part.get("allOf"))]
    done = {"allOf"}

    def keep(key: str, values: list[Any]) -> None:
        """A keyword whose values cannot be combined: one stays, the others go to the rest."""
        kept, *others = _distinct(values)
        merged[key] = kept
        rest.extend({key: value} for value in others)

    def numbers(key: str) -> list[Fraction] | None:
        found = [_number(value) for value in present.get(key, [])]
        if len(found) < 2 or any(number is None for number in found):
            return None
        return [number for number in found if number is not None]

    for key, values in present.items():
        if key in ANNOTATIONS or key in IGNORED:
            merged[key] = values[0]
            done.add(key)
    kinds = [_type_set(value) for value in present.get("type", [])]
    if len(kinds) > 1 and all(kind is not None for kind in kinds):
        merged["type"] = _meet([kind for kind in kinds if kind is not None])
        done.add("type")
    listed = [[p["const"]] for p in parts if "const" in p]
    listed += [p["enum"] for p in parts if isinstance(p.get("enum"), list)]
    if len(listed) > 1:
        allowed = [v for v in listed[0] if all(_contains(other, v) for other in listed[1:])]
        if "const" in present and len(allowed) == 1:
            merged["const"] = allowed[0]
        else:
            merged["enum"] = allowed
        done.add("const")
        if all(isinstance(v, list) for v in present.get("enum", [])):
            done.add("enum")
    for key in (*COUNT_MAXIMA, *COUNT_MINIMA):
        found = numbers(key)
        if found is not None:
            tightest = min(found) if key in COUNT_MAXIMA else max(found)
            merged[key] = _plain(tightest)
            done.add(key)
    for upper in (True, False):
        bounds = [b for b in (_bound(part, upper) for part in parts) if b is not None]
        if len(bounds) > 1:
            sign = -1 if upper else 1
            _, value, exclusive = max(bounds, key=lambda b: (sign * b[1], b[2]))
            plain, strict = (
                ("maximum", "exclusiveMaximum") if upper else ("minimum", "exclusiveMinimum")
            )
            merged[strict if exclusive else plain] = _plain(value)
            done |= {plain, strict}
    steps = numbers("multipleOf")
    if steps is not None and all(step > 0 for step in steps):
        merged["multipleOf"] = _plain(_lcm(steps))
        done.add("multipleOf")
    if True in present.get("uniqueItems", []):
        merged["uniqueItems"] = True
        done.add("uniqueItems")
    if "required" in present and all(isinstance(v, list) for v in present["required"]):
        merged["required"] = list(dict.fromkeys(n for names in present["required"] for n in names))
        done.add("required")
    if "items" in present and all(isinstance(v, dict | bool) for v in present["items"]):
        merged["items"] = _all_of(present["items"])
        done.add("items")
    if all(isinstance(v, dict) for v in present.get("properties", [])) and all(
        isinstance(v, dict | bool) for v in present.get("additionalProperties", [])
    ):
        _objects(parts, merged)
        done |= {"properties", "additionalProperties"}
    for key, values in present.items():
        if key not in done:
            keep(key, values)
    if rest:
        merged["allOf"] = rest
    return merged


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _contains(values: list[Any], value: Any) -> bool:
    key = _canonical(value)
    return any(_canonical(item) == key for item in values)


def _all_of(schemas: list[Any]) -> Any:
    """One schema for several: itself if they are all the same, else their ``allOf``."""
    distinct = _distinct(schemas)
    meaningful = [s for s in distinct if s is not True and s != {}]
    if len(distinct) == 1 or not meaningful:
        return distinct[0]
    return meaningful[0] if len(meaningful) == 1 else {"allOf": meaningful}


def _objects(parts: Sequence[Mapping[str, Any]], merged: dict[str, Any]) -> None:
    """``properties`` and ``additionalProperties`` of an ``allOf``: a property is checked by
    every part, with the part's own schema for it or, where the part does not name it, the
    part's ``additionalProperties`` (``patternProperties`` are not considered)."""
    names: dict[str, list[Any]] = {}
    for part in parts:
        for name, schema in _mapping(part.get("properties")).items():
            names.setdefault(name, []).append(schema)
    for part in parts:
        extra = part.get("additionalProperties", True)
        if extra is True or extra == {}:
            continue
        own = _mapping(part.get("properties"))
        for name, schemas in names.items():
            if name not in own:
                schemas.append(extra)
    if names:
        merged["properties"] = {name: _all_of(schemas) for name, schemas in names.items()}
    extras = [p["additionalProperties"] for p in parts if "additionalProperties" in p]
    if extras:
        merged["additionalProperties"] = False if False in extras else _all_of(extras)


class _Document:
    """One schema document (an inputSchema or outputSchema) with its local ``$ref`` targets."""

    def __init__(self, root: Any, where: str) -> None:
        self.root = _as_schema(root)
        self.where = where

    def pointer(self, ref: str) -> Any:
        try:
            return resolve_ref(self.root, ref)
        except LookupError:
            raise CompileError(
                f"{self.where}: $ref {ref!r} does not resolve",
                hint="regenerate the surface with `sfn-mcp generate`",
            ) from None

    def resolve(
        self, value: Any, seen: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Follow local ``$ref`` s (siblings override the target) and merge ``allOf`` parts."""
        schema = _as_schema(value)
        refs = seen
        while isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#"):
            ref = schema.pop("$ref")
            if ref in refs:  # a definition that is only itself: nothing to compare
                return {}, refs
            refs = (*refs, ref)
            schema = {**_as_schema(self.pointer(ref)), **schema}
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts:
            del schema["allOf"]
            resolved_parts = [schema]  # the siblings first: their annotations win
            for part in parts:
                resolved, refs = self.resolve(part, refs)
                resolved_parts.append(resolved)
            schema = _intersect(resolved_parts)
        return schema, refs

    def branches(self, value: Any) -> tuple[dict[str, Any], list[_Branch]]:
        """The alternatives of a schema and the annotations that belong to none of them: the
        members of an anyOf/oneOf (flattened) and its siblings, one schema per entry of a
        ``type`` list and the list's annotations, or the schema itself and nothing."""
        schema, refs = self.resolve(value)
        members = next((schema[k] for k in UNION if isinstance(schema.get(k), list)), None)
        if members is not None:
            found = [b for member in members for b in self._members(member, refs)]
            return _annotations(schema), _any_value(found)
        if isinstance(schema.get("type"), list) and len(schema["type"]) > 1:
            found = [_Branch(_for_type(_validation(schema), t), refs) for t in schema["type"]]
            return _annotations(schema), found
        return {}, [_Branch(schema, refs)]

    def _members(self, value: Any, refs: tuple[str, ...]) -> Iterator[_Branch]:
        schema, member_refs = self.resolve(value, refs)
        nested = next((schema[k] for k in UNION if isinstance(schema.get(k), list)), None)
        if nested is not None and len(member_refs) < MAX_DEPTH:
            for member in nested:
                yield from self._members(member, member_refs)
        elif isinstance(schema.get("type"), list) and len(schema["type"]) > 1:
            for kind in schema["type"]:
                yield _Branch(_for_type(schema, kind), member_refs)
        else:
            yield _Branch(schema, member_refs)


EVERY_TYPE: Final = frozenset({"object", "array", "string", "number", "boolean"})


def _any_value(branches: list[_Branch]) -> list[_Branch]:
    """A union of bare types that covers every JSON type (how pydantic spells ``Any`` with
    ``| None``) is one "any value" alternative, so typing it later reads as one change."""
    bare = [b for b in branches if set(_validation(b.schema)) == {"type"} and not _is_null(b)]
    covered = {t for b in bare for t in (_types(b.schema) or ())}
    if not EVERY_TYPE.issubset(covered):
        return branches
    first = branches.index(bare[0])
    rest = [b for b in branches if b not in bare]
    return [*rest[:first], _Branch({}, ()), *rest[first:]]


def _simple(branches: list[_Branch]) -> bool:
    """At most one alternative besides null."""
    return sum(not _is_null(b) for b in branches) <= 1


def _merged(level: dict[str, Any], branches: list[_Branch]) -> tuple[dict[str, Any], list[_Branch]]:
    """The annotations of a simple schema's one alternative join the level's (the level wins)."""
    merged = dict(level)
    stripped = []
    for branch in branches:
        merged = {**_annotations(branch.schema), **merged}
        stripped.append(_Branch(_validation(branch.schema), branch.refs))
    return merged, stripped


def _marker(branch: _Branch) -> str:
    """A union member in a path: its class name, else its type."""
    schema = branch.schema
    name = schema.get("title") or (branch.refs[-1].rsplit("/", 1)[-1] if branch.refs else "")
    types = _types(schema)
    return str(name) if name else "any" if types is None else "/".join(sorted(types))


def _features(value: Any, at: str = "") -> Iterator[str]:
    """A schema as a set of facts (``/properties/a/const=1``) for a similarity measure."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{at}/{key}"
            yield from _features(item, f"{at}/{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _features(item, f"{at}[]")
    else:
        yield f"{at}={_canonical(value)}"


Scorer = Callable[[list[_Branch], list[_Branch]], Callable[[int, int], float]]


def _identical(olds: list[_Branch], news: list[_Branch]) -> Callable[[int, int], float]:
    """1 for two members with the same schema (JSON numbers by value)."""
    keys_old = [_canonical(b.schema) for b in olds]
    keys_new = [_canonical(b.schema) for b in news]
    return lambda i, j: float(keys_old[i] == keys_new[j])


def _unique_label(olds: list[_Branch], news: list[_Branch]) -> Callable[[int, int], float]:
    """1 for two members with the same class label that no other member has."""
    labels_old, labels_new = [_label(b) for b in olds], [_label(b) for b in news]
    count_old, count_new = Counter(labels_old), Counter(labels_new)

    def score(i: int, j: int) -> float:
        label = labels_old[i]
        return float(label == labels_new[j] and count_old[label] == 1 == count_new[label])

    return score


def _alike(olds: list[_Branch], news: list[_Branch]) -> Callable[[int, int], float]:
    """How much two members look alike: shared facts over all facts (Jaccard), $refs included."""

    def facts(branch: _Branch) -> set[str]:
        return {*_features(branch.schema), *(f"$ref {r}" for r in branch.refs[-1:])}

    facts_old, facts_new = [facts(b) for b in olds], [facts(b) for b in news]

    def score(i: int, j: int) -> float:
        union = facts_old[i] | facts_new[j]
        return len(facts_old[i] & facts_new[j]) / len(union) if union else 1.0

    return score


def _pair_best(
    olds: list[_Branch], news: list[_Branch], scorer: Scorer
) -> list[tuple[_Branch, _Branch]]:
    """Greedily pair the best-scoring members (above 0; earlier positions win ties) and take
    them out of ``olds`` and ``news``."""
    score = scorer(olds, news)
    ranked = sorted(
        ((score(i, j), i, j) for i in range(len(olds)) for j in range(len(news))),
        key=lambda row: (-row[0], row[1], row[2]),
    )
    taken_old: set[int] = set()
    taken_new: set[int] = set()
    found: list[tuple[int, int]] = []
    for value, i, j in ranked:
        if value > 0 and i not in taken_old and j not in taken_new:
            taken_old.add(i)
            taken_new.add(j)
            found.append((i, j))
    pairs = [(olds[i], news[j]) for i, j in sorted(found)]
    olds[:] = [b for i, b in enumerate(olds) if i not in taken_old]
    news[:] = [b for j, b in enumerate(news) if j not in taken_new]
    return pairs


def _match(
    old: list[_Branch], new: list[_Branch]
) -> tuple[list[tuple[_Branch, _Branch]], list[_Branch], list[_Branch]]:
    """Pair union members by type family; among several of a family, identical members first,
    then members whose class label is unique on both sides, then the most alike, then by
    position. Unpaired ones were removed or added (a lone removed and a lone added non-null
    member are paired as a type change)."""
    pairs: list[tuple[_Branch, _Branch]] = []
    removed: list[_Branch] = []
    added: list[_Branch] = []
    families = list(dict.fromkeys(_family(b) for b in [*old, *new]))
    for family in families:
        olds = [b for b in old if _family(b) == family]
        news = [b for b in new if _family(b) == family]
        if len(olds) > 1 or len(news) > 1:
            for scorer in (_identical, _unique_label, _alike):
                pairs.extend(_pair_best(olds, news, scorer))
        pairs.extend(zip(olds, news, strict=False))
        removed.extend(olds[len(news) :])
        added.extend(news[len(olds) :])
    lone_old = [b for b in removed if not _is_null(b)]
    lone_new = [b for b in added if not _is_null(b)]
    if len(lone_old) == 1 and len(lone_new) == 1:
        pairs.append((lone_old[0], lone_new[0]))
        removed.remove(lone_old[0])
        added.remove(lone_new[0])
    return pairs, removed, added


def _bound(schema: Mapping[str, Any], upper: bool) -> tuple[str, Fraction, bool] | None:
    """The numeric bound as (keyword, value, exclusive); the tighter of the two keywords."""
    plain, strict = ("maximum", "exclusiveMaximum") if upper else ("minimum", "exclusiveMinimum")
    found: list[tuple[str, Fraction, bool]] = []
    number = _number(schema.get(plain))
    if number is not None:
        exclusive = schema.get(strict) is True  # draft 4 / OpenAPI 3.0: a boolean modifier
        found.append((strict if exclusive else plain, number, exclusive))
    number = _number(schema.get(strict))
    if number is not None:
        found.append((strict, number, True))
    if not found:
        return None
    sign = -1 if upper else 1
    return max(found, key=lambda b: (sign * b[1], b[2]))


def _number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Fraction(str(value))
    except ValueError:  # inf, nan
        return None


def _plain(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


class _Walker:
    """Walks an old and a new schema of one tool side in parallel, collecting changes."""

    def __init__(self, tool: str, side: Side, old: Any, new: Any, out: list[Change]) -> None:
        self.tool = tool
        self.side = side
        self.old = _Document(old, f"tool {tool}: old {side} schema")
        self.new = _Document(new, f"tool {tool}: new {side} schema")
        self.out = out
        self.active: set[tuple[str, str]] = set()
        self.depth = 0

    def emit(
        self,
        path: str,
        code: str,
        effect: Effect | Severity,
        message: str,
        old: Any = ABSENT,
        new: Any = ABSENT,
    ) -> None:
        if effect == "breaking" or effect == "non-breaking":
            severity: Severity = effect
        else:
            severity = _severity(effect, self.side)
        self.out.append(Change(self.tool, severity, code, path, message, old, new))

    def says(self, for_input: str, for_output: str) -> str:
        return for_input if self.side == "input" else for_output

    # -- a schema and its alternatives ---------------------------------------------------------

    def schema(self, old: Any, new: Any, path: str) -> None:
        if self.depth > MAX_DEPTH:
            return
        self.depth += 1
        try:
            old_level, old_branches = self.old.branches(old)
            new_level, new_branches = self.new.branches(new)
            if _simple(old_branches) and _simple(new_branches):
                # X, X | None, [X, "null"]: the field's words are X's, whichever spelling
                old_level, old_branches = _merged(old_level, old_branches)
                new_level, new_branches = _merged(new_level, new_branches)
                self.annotations(old_level, new_level, path)
                self.union(old_branches, new_branches, path, several=False)
            else:
                self.annotations(old_level, new_level, path)
                self.union(old_branches, new_branches, path, several=True)
        finally:
            self.depth -= 1

    def union(self, old: list[_Branch], new: list[_Branch], path: str, *, several: bool) -> None:
        """Pair the alternatives; with several, each pair has its own words and path marker."""
        pairs, removed, added = _match(old, new)
        for before, after in pairs:
            where = f"{path}<{_marker(after)}>" if several and not _is_null(after) else path
            if several:
                self.annotations(_annotations(before.schema), _annotations(after.schema), where)
            self.branch(before, after, where)
        for branch in removed:
            if _is_null(branch):
                message = self.says("no longer accepts null", "is never null now")
                self.emit(path, "null-removed", "narrow", message)
            else:
                label = _label(branch)
                message = self.says(f"no longer accepts {label}", f"is never {label} now")
                self.emit(path, "type-narrowed", "narrow", message, old=label)
        for branch in added:
            if _is_null(branch):
                message = self.says("now also accepts null", "may now be null")
                self.emit(path, "null-added", "widen", message)
            else:
                label = _label(branch)
                message = self.says(f"now also accepts {label}", f"may now be {label}")
                self.emit(path, "type-widened", "widen", message, new=label)

    def branch(self, old: _Branch, new: _Branch, path: str) -> None:
        key = (old.refs[-1] if old.refs else "", new.refs[-1] if new.refs else "")
        if key != ("", "") and key in self.active:
            return  # a recursive definition: this pair is already being compared further up
        self.active.add(key)
        try:
            self.validation(_validation(old.schema), _validation(new.schema), path)
        finally:
            self.active.discard(key)

    # -- one alternative -----------------------------------------------------------------------

    def validation(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if not old or not new:
            if old or new:
                self.typed(old, new, path)
            return
        relation = _type_relation(_types(old), _types(new))
        if relation != "same":
            self.types(old, new, relation, path)
            if relation == "disjoint":
                return
        self.values(old, new, path)
        self.constraints(old, new, path)
        self.objects(old, new, path)
        if "items" in old or "items" in new:
            before, after = old.get("items", {}), new.get("items", {})
            if isinstance(before, list) or isinstance(after, list):
                self.unknown("items", before, after, path)
            else:
                self.schema(before, after, f"{path}[]")
        for key in sorted((set(old) | set(new)) - WALKED):
            if not _same(old.get(key, ABSENT), new.get(key, ABSENT)):
                self.unknown(key, old.get(key, ABSENT), new.get(key, ABSENT), path)
        ref_old, ref_new = old.get("$ref", ABSENT), new.get("$ref", ABSENT)
        if not _same(ref_old, ref_new):  # only remote refs are left after resolving
            self.unknown("$ref", ref_old, ref_new, path)

    def unknown(self, key: str, old: Any, new: Any, path: str) -> None:
        self.emit(
            path,
            "keyword-changed",
            "both",
            f"{key} changed, which sfn-mcp cannot classify: review it by hand",
            old,
            new,
        )

    def typed(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if not old:
            label = _label(_Branch(new, ()))
            message = self.says(f"now accepts only {label} (was any value)", f"now typed: {label}")
            self.emit(path, "type-narrowed", "narrow", message, new=new.get("type", ABSENT))
        else:
            label = _label(_Branch(old, ()))
            message = self.says(
                f"now accepts any value (was {label})", f"no longer typed (was {label})"
            )
            self.emit(path, "type-widened", "widen", message, old=old.get("type", ABSENT))

    def types(self, old: dict[str, Any], new: dict[str, Any], relation: str, path: str) -> None:
        was, now = _label(_Branch(old, ())), _label(_Branch(new, ()))
        values = {"old": old.get("type", ABSENT), "new": new.get("type", ABSENT)}
        if relation == "narrow":
            message = self.says(f"now accepts only {now} (was {was})", f"is now {now} (was {was})")
            self.emit(path, "type-narrowed", "narrow", message, **values)
        elif relation == "widen":
            message = self.says(
                f"now also accepts {now} (was {was})", f"may now be {now} (was {was})"
            )
            self.emit(path, "type-widened", "widen", message, **values)
        else:
            self.emit(path, "type-changed", "both", f"type {was} -> {now}", **values)

    def values(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if "const" in old and "const" in new:
            if not _same(old["const"], new["const"]):
                message = f"fixed value {_fmt(old['const'])} -> {_fmt(new['const'])}"
                self.emit(path, "const-changed", "both", message, old["const"], new["const"])
            return
        allowed_old, allowed_new = _allowed(old), _allowed(new)
        if allowed_old is None and allowed_new is None:
            return
        kind = "const" if "const" in old or "const" in new else "enum"
        if allowed_old is None:
            shown = _fmt(allowed_new, 80)
            message = self.says(f"now restricted to {shown}", f"now always one of {shown}")
            self.emit(path, f"{kind}-added", "narrow", message, new=allowed_new)
            return
        if allowed_new is None:
            shown = _fmt(allowed_old, 80)
            message = self.says(
                f"no longer restricted to {shown}", f"no longer restricted to {shown}"
            )
            self.emit(path, f"{kind}-removed", "widen", message, old=allowed_old)
            return
        keys_new = {_canonical(v) for v in allowed_new}
        keys_old = {_canonical(v) for v in allowed_old}
        for value in allowed_old:
            if _canonical(value) not in keys_new:
                message = self.says(
                    f"value {_fmt(value)} no longer accepted",
                    f"value {_fmt(value)} no longer returned",
                )
                self.emit(path, "enum-value-removed", "narrow", message, old=value)
        for value in allowed_new:
            if _canonical(value) not in keys_old:
                message = self.says(
                    f"value {_fmt(value)} now accepted",
                    f"new value {_fmt(value)} may be returned: consumers that switch on the "
                    "values must handle it",
                )
                self.emit(path, "enum-value-added", "widen", message, new=value)

    def constraint(self, path: str, key: str, old: Any, new: Any, effect: Effect) -> None:
        if effect == "none":
            return
        values = {"old": {key: old} if old is not ABSENT else ABSENT}
        values["new"] = {key: new} if new is not ABSENT else ABSENT
        self._constraint(path, key, key, old, new, effect, values)

    def _constraint(
        self,
        path: str,
        key_old: str,
        key_new: str,
        old: Any,
        new: Any,
        effect: Effect,
        values: dict[str, Any],
    ) -> None:
        if old is ABSENT:
            code, message = "constraint-added", f"new constraint {key_new} {_fmt(new)}"
        elif new is ABSENT:
            code, message = "constraint-removed", f"constraint {key_old} {_fmt(old)} removed"
        else:
            change = f"{key_old} {_fmt(old)} -> {key_new} {_fmt(new)}"
            if key_old == key_new:
                change = f"{key_old} {_fmt(old)} -> {_fmt(new)}"
            code, message = {
                "narrow": ("constraint-tightened", f"{change} (tighter)"),
                "widen": ("constraint-relaxed", f"{change} (looser)"),
                "both": ("constraint-changed", f"{change}: values valid before may not be now"),
            }[effect]
        self.emit(path, code, effect, message, **values)

    def constraints(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        for key in COUNT_MAXIMA:
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            self.constraint(path, key, before, after, _compare_limit(before, after, upper=True))
        for key in COUNT_MINIMA:
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            if before in (ABSENT, 0) and after in (ABSENT, 0):  # minLength 0 constrains nothing
                continue
            self.constraint(path, key, before, after, _compare_limit(before, after, upper=False))
        for upper in (False, True):
            self.numeric_bound(old, new, path, upper)
        for key in ("pattern", "format"):
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            effect: Effect = "none"
            if before != after:
                effect = "narrow" if before is ABSENT else "widen" if after is ABSENT else "both"
            self.constraint(path, key, before, after, effect)
        before, after = old.get("multipleOf", ABSENT), new.get("multipleOf", ABSENT)
        self.constraint(path, "multipleOf", before, after, _compare_multiple(before, after))
        before, after = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
        if before != after:
            effect = "narrow" if after else "widen"
            self.constraint(
                path, "uniqueItems", ABSENT if after else True, True if after else ABSENT, effect
            )

    def numeric_bound(
        self, old: dict[str, Any], new: dict[str, Any], path: str, upper: bool
    ) -> None:
        before, after = _bound(old, upper), _bound(new, upper)
        if before == after:
            return
        if before is None or after is None:
            effect: Effect = "narrow" if before is None else "widen"
        else:
            sign = -1 if upper else 1
            tighter = (sign * after[1], after[2]) > (sign * before[1], before[2])
            effect = "narrow" if tighter else "widen"
        key_old = before[0] if before else ""
        key_new = after[0] if after else ""
        value_old = _plain(before[1]) if before else ABSENT
        value_new = _plain(after[1]) if after else ABSENT
        values = {
            "old": {key_old: value_old} if before else ABSENT,
            "new": {key_new: value_new} if after else ABSENT,
        }
        self._constraint(path, key_old, key_new, value_old, value_new, effect, values)

    def objects(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        props_old = old.get("properties") if isinstance(old.get("properties"), dict) else {}
        props_new = new.get("properties") if isinstance(new.get("properties"), dict) else {}
        assert isinstance(props_old, dict) and isinstance(props_new, dict)
        req_old, req_new = _required(old), _required(new)
        closed_new = new.get("additionalProperties") is False
        names = list(dict.fromkeys([*props_old, *sorted(req_old), *props_new, *sorted(req_new)]))
        for name in names:
            where = _child(path, name)
            known_old = name in props_old or name in req_old
            known_new = name in props_new or name in req_new
            if known_old and known_new:
                if name not in req_old and name in req_new:
                    message = self.says(
                        "now required: calls without it are rejected", "now always present"
                    )
                    self.emit(where, "field-now-required", "narrow", message)
                elif name in req_old and name not in req_new:
                    message = self.says(
                        "now optional",
                        "no longer always present: consumers must handle its absence",
                    )
                    self.emit(where, "field-no-longer-required", "widen", message)
                if name in props_old or name in props_new:
                    self.schema(props_old.get(name, {}), props_new.get(name, {}), where)
            elif known_old:
                self.removed_field(where, closed_new)
            elif name in req_new:
                message = self.says(
                    "new required field: calls without it are rejected",
                    "new field, always present",
                )
                self.emit(where, "required-field-added", "narrow", message)
            else:
                message = self.says("new optional field", "new field (may be absent)")
                self.emit(where, "field-added", NON_BREAKING, message)
        self.additional(old, new, path)

    def removed_field(self, where: str, closed: bool) -> None:
        if self.side == "output":
            message = "removed from the result: consumers that read it will miss it"
            self.emit(where, "field-removed", BREAKING, message)
        elif closed:
            message = (
                "removed: calls that still send it are rejected (the object allows no other "
                "properties)"
            )
            self.emit(where, "field-removed", BREAKING, message)
        else:
            message = (
                "no longer described; still accepted as an extra property (the object is open), "
                "but the workflow may ignore it"
            )
            self.emit(where, "field-removed", NON_BREAKING, message)

    def additional(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        before = old.get("additionalProperties", True)
        after = new.get("additionalProperties", True)
        if before is False and after is not False:
            message = self.says(
                "now accepts properties the schema does not name",
                "may now contain properties the schema does not name",
            )
            self.emit(path, "additional-properties-opened", NON_BREAKING, message, False, after)
        elif before is not False and after is False:
            message = self.says(
                "additionalProperties -> false: properties the schema does not name are rejected",
                "additionalProperties -> false: no properties beyond the named ones",
            )
            self.emit(path, "additional-properties-closed", "narrow", message, before, False)
        elif before is not False and not _same(before, after):
            self.schema(before, after, f"{path}.*")

    # -- annotations ---------------------------------------------------------------------------

    def annotations(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> None:
        for key in sorted(set(old) | set(new)):
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            if _same(before, after):
                continue
            if key == "default":
                self.default(before, after, path)
            elif key in ("title", "description"):
                if before is ABSENT:
                    message = f"new {key} {_fmt(after)}"
                elif after is ABSENT:
                    message = f"{key} {_fmt(before)} removed"
                else:
                    message = f"{key} {_fmt(before)} -> {_fmt(after)}"
                self.emit(path, f"{key}-changed", "none", message, before, after)
            else:
                message = f"annotation {key}: {_show(before)} -> {_show(after)}"
                self.emit(path, "annotation-changed", "none", message, before, after)

    def default(self, before: Any, after: Any, path: str) -> None:
        if before is ABSENT:
            consequence = self.says(": calls that leave it out now send it", "")
            message = f"new default {_fmt(after)}{consequence}"
            self.emit(path, "default-added", "none", message, new=after)
        elif after is ABSENT:
            consequence = self.says(": calls that leave it out no longer send it", "")
            message = f"default {_fmt(before)} removed{consequence}"
            self.emit(path, "default-removed", "none", message, old=before)
        else:
            consequence = self.says(": calls that leave it out get the new value", "")
            message = f"default {_fmt(before)} -> {_fmt(after)}{consequence}"
            self.emit(path, "default-changed", "none", message, before, after)


def _required(schema: Mapping[str, Any]) -> set[str]:
    names = schema.get("required")
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def _show(value: Any) -> str:
    return "unset" if value is ABSENT else _fmt(value)


def _by_value(value: Any) -> Any:
    """A JSON value with its numbers compared by value (1 and 1.0 alike; true stays a boolean)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _by_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_by_value(item) for item in value]
    return value


def _canonical(value: Any) -> str:
    """One spelling per JSON value: keys sorted, numbers by value."""
    return json.dumps(_by_value(value), sort_keys=True)


def _same(before: Any, after: Any) -> bool:
    """JSON equality: unlike ``==``, ``true`` is not ``1`` (and ``[true]`` not ``[1]``)."""
    if before is ABSENT or after is ABSENT:
        return before is after
    return _canonical(before) == _canonical(after)


def _allowed(schema: Mapping[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    values = schema.get("enum")
    return list(values) if isinstance(values, list) else None


def _compare_limit(before: Any, after: Any, *, upper: bool) -> Effect:
    old, new = _number(before), _number(after)
    if old == new:
        return "none"
    if old is None:
        return "narrow"
    if new is None:
        return "widen"
    return "narrow" if (new < old) == upper else "widen"


def _compare_multiple(before: Any, after: Any) -> Effect:
    old, new = _number(before), _number(after)
    if old == new:
        return "none"
    if old is None:
        return "narrow"
    if new is None:
        return "widen"
    if old and (new / old).denominator == 1:
        return "narrow"  # every multiple of the new step is a multiple of the old one
    if new and (old / new).denominator == 1:
        return "widen"
    return "both"


HINT_MESSAGES: Final = {
    ("readOnlyHint", True): "now marked read-only",
    ("readOnlyHint", False): "no longer marked read-only: clients may ask before each call",
    ("destructiveHint", True): "now marked destructive: clients may ask for confirmation",
    ("destructiveHint", False): "no longer marked destructive",
    ("idempotentHint", True): "now marked idempotent: clients may retry calls",
    ("idempotentHint", False): "no longer marked idempotent: clients should not retry calls",
    ("openWorldHint", True): "now marked as reaching outside systems",
    ("openWorldHint", False): "no longer marked as reaching outside systems",
}
KNOWN_TOOL_KEYS: Final = frozenset(
    {"name", "title", "description", "stateMachine", "inputSchemaSource", "outputSchemaSource"}
    | {"annotations", "inputSchema", "outputSchema"}
)


def _machine(tool: Mapping[str, Any]) -> Mapping[str, Any] | None:
    machine = tool.get("stateMachine")
    return machine if isinstance(machine, dict) else None


def _machine_text(machine: Mapping[str, Any]) -> str:
    return str(machine.get("name") or machine.get("arn") or "?")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


class _ToolDiff:
    """The tool-level differences of one tool present on both sides, then its two schemas."""

    def __init__(self, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.name, self.old, self.new = name, old, new
        self.out: list[Change] = []

    def emit(
        self,
        path: str,
        code: str,
        severity: Severity,
        message: str,
        old: Any = ABSENT,
        new: Any = ABSENT,
    ) -> None:
        self.out.append(Change(self.name, severity, code, path, message, old, new))

    def run(self) -> list[Change]:
        old, new = self.old, self.new
        for key in ("title", "description"):
            self.words(key, old.get(key, ABSENT), new.get(key, ABSENT))
        self.machine(_machine(old), _machine(new))
        for key in ("inputSchemaSource", "outputSchemaSource"):
            self.source(key, old.get(key), new.get(key))
        self.hints(_mapping(old.get("annotations")), _mapping(new.get("annotations")))
        schema_old, schema_new = old.get("inputSchema"), new.get("inputSchema")
        _Walker(self.name, "input", schema_old, schema_new, self.out).schema(
            schema_old, schema_new, "input"
        )
        schema_old, schema_new = old.get("outputSchema"), new.get("outputSchema")
        if schema_old is None and schema_new is not None:
            self.emit(
                "output", "output-schema-added", NON_BREAKING, "now declares an output schema"
            )
        elif schema_old is not None and schema_new is None:
            message = "no longer declares an output schema: clients lose the typed result"
            self.emit("output", "output-schema-removed", BREAKING, message)
        elif schema_old is not None:
            _Walker(self.name, "output", schema_old, schema_new, self.out).schema(
                schema_old, schema_new, "output"
            )
        self.unknown("", old, new, KNOWN_TOOL_KEYS)
        return self.out

    def words(self, key: str, before: Any, after: Any) -> None:
        if before != after:
            message = f"tool {key} {_show(before)} -> {_show(after)}"
            self.emit(key, f"{key}-changed", NON_BREAKING, message, before, after)

    def hints(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        for hint in sorted(set(old) | set(new)):
            before, after = old.get(hint, ABSENT), new.get(hint, ABSENT)
            if before == after:
                continue
            message = f"{_show(before)} -> {_show(after)}"
            if isinstance(after, bool) and (hint, after) in HINT_MESSAGES:
                message = f"{HINT_MESSAGES[hint, after]} (was {_show(before)})"
            self.emit(
                f"annotations.{hint}", "annotation-changed", NON_BREAKING, message, before, after
            )

    def machine(self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
        if old is None or new is None:
            if old is not None or new is not None:
                message = (
                    f"now runs the state machine {_machine_text(new)}"
                    if new is not None
                    else f"no longer runs a state machine (was {_machine_text(old or {})})"
                )
                self.emit("stateMachine", "state-machine-changed", NON_BREAKING, message, old, new)
            return
        arn_old, arn_new = old.get("arn"), new.get("arn")
        if arn_old != arn_new:
            message = f"now runs {arn_new} (was {arn_old}): behaviour may change"
            path = "stateMachine.arn"
            self.emit(path, "state-machine-changed", NON_BREAKING, message, arn_old, arn_new)
        type_old, type_new = old.get("type"), new.get("type")
        if type_old != type_new:
            consequence = {
                "EXPRESS": "calls now run synchronously for at most 5 minutes, without retries",
                "STANDARD": "a call may now return RUNNING and an execution ARN instead of the "
                "result",
            }.get(str(type_new), "calls behave differently")
            message = f"workflow type {type_old} -> {type_new}: {consequence}"
            path = "stateMachine.type"
            self.emit(path, "workflow-type-changed", BREAKING, message, type_old, type_new)
        sha_old, sha_new = old.get("definitionSha256"), new.get("definitionSha256")
        if sha_old != sha_new:
            message = (
                f"definition changed ({str(sha_old)[:12]} -> {str(sha_new)[:12]}) with the same "
                "contract: behaviour may change"
            )
            path = "stateMachine.definitionSha256"
            self.emit(path, "definition-changed", NON_BREAKING, message, sha_old, sha_new)
        wait_old, wait_new = old.get("maxWaitSeconds"), new.get("maxWaitSeconds")
        if "maxWaitSeconds" in old and wait_old != wait_new:
            message = (
                f"waits up to {_fmt(wait_new)} s (was {_fmt(wait_old)} s) before returning "
                "RUNNING: a client's own timeout may need to follow"
            )
            path = "stateMachine.maxWaitSeconds"
            self.emit(path, "wait-changed", NON_BREAKING, message, wait_old, wait_new)
        stop_old, stop_new = old.get("stopOnCancel"), new.get("stopOnCancel")
        if "stopOnCancel" in old and stop_old != stop_new:
            message = (
                "a cancelled call now stops the execution"
                if stop_new
                else "a cancelled call now leaves the execution running"
            )
            path = "stateMachine.stopOnCancel"
            self.emit(path, "cancel-behaviour-changed", NON_BREAKING, message, stop_old, stop_new)
        known = {"name", "arn", "type", "definitionSha256"}
        known |= {key for key in ("maxWaitSeconds", "stopOnCancel") if key in old}
        self.unknown("stateMachine.", old, new, known)

    def source(self, key: str, old: Any, new: Any) -> None:
        if old == new:
            return
        before, after = _mapping(old), _mapping(new)
        if before and after and before.get("arn") == after.get("arn"):
            message = (
                f"schema version {_fmt(before.get('version'))} -> "
                f"{_fmt(after.get('version'))} of {after.get('arn')}"
            )
            self.emit(key, "schema-version-changed", NON_BREAKING, message, old, new)
            return
        if not before:
            message = f"now generated from {after.get('arn')} version {_fmt(after.get('version'))}"
        elif not after:
            message = f"no longer generated from a registry schema (was {before.get('arn')})"
        else:
            message = (
                f"schema {before.get('arn')} -> {after.get('arn')} version "
                f"{_fmt(after.get('version'))}"
            )
        self.emit(key, "schema-source-changed", NON_BREAKING, message, old, new)

    def unknown(
        self, prefix: str, old: Mapping[str, Any], new: Mapping[str, Any], known: Iterable[str]
    ) -> None:
        """Keys a later surface format may add: reported, never silently ignored."""
        for key in sorted((set(old) | set(new)) - set(known)):
            before, after = old.get(key, ABSENT), new.get(key, ABSENT)
            if before != after:
                message = f"{key} {_show(before)} -> {_show(after)}"
                path = f"{prefix}{key}"
                self.emit(path, "tool-metadata-changed", NON_BREAKING, message, before, after)


def _renames(old: Surface, new: Surface, removed: list[str], added: list[str]) -> dict[str, str]:
    """Old name → new name for tools whose state machine ARN moved to exactly one new name."""

    def by_arn(surface: Surface, names: list[str]) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for name in names:
            machine = _machine(surface.tools[name])
            if machine and isinstance(machine.get("arn"), str):
                index.setdefault(machine["arn"], []).append(name)
        return index

    gone, came = by_arn(old, removed), by_arn(new, added)
    return {
        names[0]: came[arn][0]
        for arn, names in gone.items()
        if len(names) == 1 and len(came.get(arn, [])) == 1
    }


SEVERITY_ORDER: Final = {BREAKING: 0, NON_BREAKING: 1}


def _sort_key(change: Change) -> tuple[str, int, int, str, str, str]:
    section = 0 if change.path == "tool" else 1
    if change.path == "input" or change.path.startswith(("input.", "input[", "input<")):
        section = 2
    elif change.path == "output" or change.path.startswith(("output.", "output[", "output<")):
        section = 3
    return (
        change.tool,
        SEVERITY_ORDER[change.severity],
        section,
        change.path,
        change.code,
        change.message,
    )


def compare(old: Surface, new: Surface) -> list[Change]:
    """Every difference between two surfaces, classified, sorted by tool, then breaking first."""
    out: list[Change] = []
    if old.exists and new.exists:
        if old.package != new.package:
            message = (
                f"package {_show(old.package)} -> {_show(new.package)}: `python -m` in "
                "client configurations must change"
            )
            out.append(
                Change(
                    "", BREAKING, "package-renamed", "package", message, old.package, new.package
                )
            )
        if old.server != new.server:
            message = f"server name {_show(old.server)} -> {_show(new.server)}"
            out.append(
                Change(
                    "", NON_BREAKING, "server-renamed", "server", message, old.server, new.server
                )
            )
    removed = sorted(set(old.tools) - set(new.tools))
    added = sorted(set(new.tools) - set(old.tools))
    renames = _renames(old, new, removed, added)
    for name in removed:
        if name not in renames:
            message = f"tool removed: calls to {name} fail with an unknown-tool error"
            out.append(Change(name, BREAKING, "tool-removed", "tool", message))
    for name in added:
        if name not in renames.values():
            machine = _machine(new.tools[name])
            runs = f" ({machine.get('type')} workflow {_machine_text(machine)})" if machine else ""
            out.append(Change(name, NON_BREAKING, "tool-added", "tool", f"new tool{runs}"))
    for before, after in renames.items():
        machine = _machine(new.tools[after]) or {}
        message = (
            f"renamed from {before} (same state machine {_machine_text(machine)}): calls to "
            f"{before} fail with an unknown-tool error"
        )
        out.append(Change(after, BREAKING, "tool-renamed", "tool", message, before, after))
        out.extend(_ToolDiff(after, old.tools[before], new.tools[after]).run())
    for name in sorted(set(old.tools) & set(new.tools)):
        out.extend(_ToolDiff(name, old.tools[name], new.tools[name]).run())
    return sorted(out, key=_sort_key)


# ---------------------------------------------------------------------------------------------
# Rendering


def summarize(changes: Sequence[Change]) -> dict[str, Any]:
    """Counts for a summary line or a JSON report."""
    breaking = sum(change.breaking for change in changes)
    return {
        "breaking": breaking,
        "nonBreaking": len(changes) - breaking,
        "total": len(changes),
        "tools": sorted({change.tool for change in changes}),
    }


def summary_line(changes: Sequence[Change]) -> str:
    if not changes:
        return "No changes to the tool surface."
    counts = summarize(changes)
    plural = "" if counts["total"] == 1 else "s"
    return f"{counts['breaking']} breaking, {counts['nonBreaking']} non-breaking change{plural}"


def _grouped(changes: Sequence[Change]) -> Iterator[tuple[str, list[Change]]]:
    ordered = sorted(changes, key=_sort_key)
    for tool in dict.fromkeys(change.tool for change in ordered):
        yield tool, [change for change in ordered if change.tool == tool]


def _notes(surfaces: Iterable[Surface | None]) -> list[str]:
    return [note for surface in surfaces if surface is not None for note in surface.notes]


def render_text(
    changes: Sequence[Change], *, old: Surface | None = None, new: Surface | None = None
) -> str:
    """For a terminal: the labels and notes, then per tool its changes, breaking first, and the
    summary line last."""
    lines: list[str] = []
    if old is not None and new is not None:
        lines.append(f"Comparing {old.label} -> {new.label}")
    lines.extend(f"note: {note}" for note in _notes([old, new]))
    if lines:
        lines.append("")
    for tool, group in _grouped(changes):
        counts = summarize(group)
        lines.append(
            f"{tool or '(server)'}: {counts['breaking']} breaking, "
            f"{counts['nonBreaking']} non-breaking"
        )
        for change in group:
            where = f"{change.path}: " if change.path != "tool" else ""
            lines.append(
                f"  {change.severity:<12}  {where}{_one_line(change.message)} [{change.code}]"
            )
        lines.append("")
    lines.append(summary_line(changes))
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


MARKERS: Final = {BREAKING: "💥 breaking", NON_BREAKING: "✅ compatible"}
MARKDOWN_SPECIAL: Final = "\\`*_[]|~"


def _md_text(text: str) -> str:
    """Safe inside a GitHub table cell: no HTML, markdown characters escaped, one line."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    for char in MARKDOWN_SPECIAL:
        escaped = escaped.replace(char, f"\\{char}")
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _md_code(text: str) -> str:
    """A code span (pipes still escaped: GitHub splits table cells before code spans)."""
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(
    changes: Sequence[Change], *, old: Surface | None = None, new: Surface | None = None
) -> str:
    """For a pull-request comment: a heading with the summary, then one table per tool."""
    counts = summarize(changes)
    icon = "💥" if counts["breaking"] else "✅"
    lines = ["<!-- sfn-mcp diff -->", f"## {icon} Tool surface: {summary_line(changes)}", ""]
    if old is not None and new is not None:
        lines += [f"Comparing {_md_code(old.label)} → {_md_code(new.label)}.", ""]
    for note in _notes([old, new]):
        lines += [f"> **Note:** {_md_text(note)}", ""]
    for tool, group in _grouped(changes):
        tool_counts = summarize(group)
        title = _md_code(tool) if tool else "Server"
        lines += [
            f"### {title}: {tool_counts['breaking']} breaking, "
            f"{tool_counts['nonBreaking']} non-breaking",
            "",
            "| | Change | Where | Details |",
            "|---|---|---|---|",
        ]
        for change in group:
            lines.append(
                f"| {MARKERS[change.severity]} | {_md_text(change.code)} | "
                f"{_md_code(change.path)} | {_md_text(change.message)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def render_json(
    changes: Sequence[Change], *, old: Surface | None = None, new: Surface | None = None
) -> str:
    """For machines: ``{"breaking", "summary", "changes"}`` (plus ``old``, ``new`` and ``notes``
    when the surfaces are given), changes in the same order as the other formats."""
    counts = summarize(changes)
    report: dict[str, Any] = {"breaking": counts["breaking"] > 0, "summary": counts}
    if old is not None and new is not None:
        report["old"], report["new"] = old.label, new.label
        report["notes"] = _notes([old, new])
    report["changes"] = [change.as_dict() for change in sorted(changes, key=_sort_key)]
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


RENDERERS: Final = {"text": render_text, "markdown": render_markdown, "json": render_json}


def default_manifest(config_path: Path | None) -> Path:
    """Where the manifest lives: ``<output>/<name>/surface.json`` from the settings."""
    settings = load_settings({}, config_path=config_path)
    return settings.output / settings.name / MANIFEST_NAME


def display_path(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
