"""What the schema tags of a machine ask for, whatever the source (account or repository).

Both readers hand their machines here as ``Selected`` (name, ARN, tags) and get back, per machine
and role, the schema to look up and the pinned version; a tag that holds no schema ARN, a
near-miss tag key, or a schema in another account than the machine's is a warning, and that
input or output stays untyped.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping

from botocore.utils import ArnParser, InvalidArnException

from sfn_mcp.diagnostics import Diagnostics
from sfn_mcp.read.records import Role, SchemaRef, Selected
from sfn_mcp.settings import Settings, WorkflowSettings

SUPPORTED_SCHEMA_TYPES = ("OpenApi3", "JSONSchemaDraft4")
ARN_SHAPE = "arn:aws:schemas:<region>:<account>:schema/<registry>/<name>"

Request = tuple[SchemaRef, str]  # a schema and a pinned version ("" = the latest)


def parse_schema_arn(value: str) -> SchemaRef | None:
    """The schema an ARN names (botocore parses the ARN), or None if it names no schema."""
    try:
        arn = ArnParser().parse_arn(value.strip())
    except InvalidArnException:
        return None
    kind, _, path = arn["resource"].partition("/")
    registry, _, name = path.partition("/")
    if arn["service"] != "schemas" or kind != "schema" or not registry or not name or "/" in name:
        return None
    if not (arn["region"] and arn["account"].isdigit() and len(arn["account"]) == 12):
        return None
    return SchemaRef(value.strip(), arn["region"], registry, name)


def definition_comment(definition: str) -> str:
    try:
        parsed = json.loads(definition)
    except ValueError:
        return ""
    comment = parsed.get("Comment") if isinstance(parsed, dict) else None
    return comment.strip() if isinstance(comment, str) else ""


def near_miss(tags: Mapping[str, str], key: str, configured: set[str]) -> str | None:
    """A tag key that looks like a misspelling of ``key`` and holds a schema ARN. The other
    configured schema tag key is no misspelling, and a misspelling is ``key``'s only if it is
    nearer to ``key`` than to any other configured key."""
    candidates = [k for k, v in tags.items() if k not in configured and parse_schema_arn(v)]
    folded = [k for k in candidates if k.lower() == key.lower()]
    if folded:
        return folded[0]

    def nearness(a: str, b: str) -> float:
        return difflib.SequenceMatcher(None, a, b).ratio()

    near = [
        k
        for k in difflib.get_close_matches(key, candidates, n=3, cutoff=0.75)
        if all(nearness(k, key) >= nearness(k, other) for other in configured)
    ]
    return near[0] if near else None


def schema_requests(
    selected: list[Selected], settings: Settings, diagnostics: Diagnostics
) -> dict[tuple[str, Role], Request]:
    """What to fetch, per machine and role, from the schema tags."""
    requests: dict[tuple[str, Role], Request] = {}
    roles: tuple[tuple[Role, str | None], ...] = (
        ("input", settings.schema_tag_key),
        ("output", settings.output_schema_tag_key),
    )
    configured = {key for _, key in roles if key}
    for item in selected:
        machine = item.machine.name
        account = item.machine.arn.split(":")[4] if item.machine.arn.count(":") >= 5 else ""
        overrides = settings.workflows.get(machine, WorkflowSettings())
        for role, tag_key in roles:
            if not tag_key:
                continue
            value = item.tags.get(tag_key)
            if value is None:
                near = near_miss(item.tags, tag_key, configured)
                if near:
                    diagnostics.warning(
                        f"state machine {machine!r} has no tag {tag_key!r} but a tag {near!r} "
                        f"that holds a schema ARN: did you mean {near!r}? The {role} stays "
                        "untyped",
                        hint=f"rename the tag to {tag_key!r}, or set the tag key to {near!r}",
                    )
                continue
            ref = parse_schema_arn(value)
            if ref is None:
                diagnostics.warning(
                    f"state machine {machine!r}: tag {tag_key}={value!r} is not a schema ARN; "
                    f"the {role} stays untyped",
                    hint=f"set the tag to {ARN_SHAPE}, or remove it",
                )
                continue
            arn_account = ref.arn.split(":")[4]
            if account and arn_account != account:
                diagnostics.warning(
                    f"state machine {machine!r}: tag {tag_key} names a schema of account "
                    f"{arn_account}, but the Schema Registry API reads only the registries of "
                    f"the machine's account {account}; the {role} stays untyped",
                    hint="copy the schema into a registry of the machine's account and tag that",
                )
                continue
            pinned = (
                overrides.schema_version if role == "input" else overrides.output_schema_version
            )
            requests[(machine, role)] = (ref, pinned or "")
    return requests
