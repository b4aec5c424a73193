"""Read, part 1 (select): list the account's state machines (every page) and apply the filters.

Semantics follow awslabs-stepfunctions-tool-mcp-server so users can switch over: the prefix and
the explicit name list are OR'ed; with neither, every machine passes; the tag filter (exact
key=value) applies after the name filter. Unlike the anchor, every page is read, a listed name
that does not exist is an error, and a tag filter needs both key and value.
"""

from __future__ import annotations

from sfn_mcp.diagnostics import CompileError, Counter, Diagnostics, quiet_count
from sfn_mcp.read.aws import Aws, Failure, run_each
from sfn_mcp.read.records import Candidate, Selected
from sfn_mcp.settings import Settings

ENDPOINT_HINT = "check the endpoint the compiler talks to (AWS_ENDPOINT_URL*) and retry"
PAGE_SIZE = 100  # always sent: some endpoints return everything in one page without it


LISTING = "ListStateMachines"  # the key of the listing in a shared session (Aws.once)


def list_state_machines(aws: Aws) -> list[Candidate]:
    """Every state machine of the region, every page (once per shared session)."""
    return aws.once(LISTING, lambda: _list(aws))


def _list(aws: Aws) -> list[Candidate]:
    paginator = aws.client("stepfunctions").get_paginator("list_state_machines")
    machines = []
    for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
        items = page.get("stateMachines")
        if not isinstance(items, list):
            raise CompileError(
                "ListStateMachines answered without a list of state machines",
                hint=ENDPOINT_HINT,
            )
        for item in items:
            fields = [item.get(key) for key in ("name", "stateMachineArn", "type")]
            if not all(isinstance(f, str) and f for f in fields):
                raise CompileError(
                    f"ListStateMachines answered with an entry lacking a name, ARN or type: "
                    f"{str(item)[:200]}",
                    hint=ENDPOINT_HINT,
                )
            machines.append(Candidate(*fields))
    return machines


def by_name(machines: list[Candidate], settings: Settings) -> list[Candidate]:
    """The prefix/list filter. Names in the explicit list must exist."""
    listed = {m.name for m in machines}
    missing = [n for n in settings.state_machines if n not in listed]
    if missing:
        hint = "check the names and the region; names are exact and case-sensitive"
        if any(n.startswith("arn:") for n in missing):
            hint = "give the state machine's name, not its ARN"
        elif any("," in n for n in missing):
            hint = (
                "repeat --state-machine for each name (commas separate names only in the variable)"
            )
        raise CompileError(
            [f"state machine {n!r} (from the name list) does not exist" for n in missing],
            hint=hint,
        )
    if not settings.prefix and not settings.state_machines:
        return list(machines)
    wanted = set(settings.state_machines)
    return [
        m
        for m in machines
        if (settings.prefix and m.name.startswith(settings.prefix)) or m.name in wanted
    ]


def note_unfiltered(
    settings: Settings, count: int, diagnostics: Diagnostics, *, where: str
) -> None:
    """With neither a prefix nor a name list, every machine is selected: say so, and how many."""
    if not settings.prefix and not settings.state_machines:
        diagnostics.note(
            f"no prefix or name list: every state machine {where} is selected ({count})",
            hint="narrow with --prefix or --state-machine (or in [tool.sfn-mcp])",
        )


def by_tag(selected: list[Selected], settings: Settings) -> list[Selected]:
    """The exact key=value tag filter, after the name filter."""
    if not settings.tag:
        return selected
    key, value = settings.tag
    return [s for s in selected if s.tags.get(key) == value]


def select(
    aws: Aws, settings: Settings, diagnostics: Diagnostics, *, count: Counter = quiet_count
) -> list[Selected]:
    """The machines to compile, sorted by name, with their tags (always read: names, titles,
    descriptions, hints and schemas can all come from tags)."""
    machines = sorted(by_name(list_state_machines(aws), settings), key=lambda m: m.name)
    note_unfiltered(settings, len(machines), diagnostics, where="in the region")
    sfn = aws.client("stepfunctions")

    def tags_of(machine: Candidate) -> dict[str, str]:
        response = sfn.list_tags_for_resource(resourceArn=machine.arn)
        tags = response.get("tags")
        if not isinstance(tags, list) or not all(
            isinstance(t, dict) and isinstance(t.get("key"), str) for t in tags
        ):  # never "no tags": that would quietly turn a typed tool free-form
            raise CompileError(
                f"state machine {machine.name!r}: ListTagsForResource answered without a list "
                "of tags",
                hint=ENDPOINT_HINT,
            )
        return {t["key"]: str(t.get("value", "")) for t in tags}

    results = run_each(
        machines,
        tags_of,
        workers=settings.max_workers,
        describe=lambda m: f"state machine {m.name!r}: ListTagsForResource failed",
        label="reading tags",
        count=count,
    )
    selected = []
    for machine, tags in zip(machines, results, strict=True):
        if isinstance(tags, Failure):
            # Only a refusal has a safe choice (compile without tags); without its tags,
            # whether it is selected by a tag filter cannot be told.
            if settings.tag or "AccessDenied" not in tags.code:
                diagnostics.error(tags.message, hint="grant states:ListTagsForResource, and retry")
                continue
            diagnostics.warning(
                f"{tags.message}; compiled without its tags (no schema, title or hints from tags)",
                hint="grant states:ListTagsForResource",
            )
            tags = {}
        selected.append(Selected(machine, tags))
    return by_tag(selected, settings)
