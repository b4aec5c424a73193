"""The search surface: three tools that find, describe and run a package's workflows, for a
package too large for a model to read as one tool per workflow.

``find_workflows`` ranks the workflows by the words of a query in their names, titles,
descriptions and tags; ``describe_workflow`` gives one workflow's entry exactly as ``tools/list``
would have listed it (input and output schemas, annotations); ``run_workflow`` is answered by
the server as a call of the workflow's own tool (the same validation, idempotency, progress,
confirmation and task), so nothing here runs a workflow.

Everything is read from the recorded ``tools/list`` entries; no model is imported.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcp.types import Tool as McpTool
from mcp.types import ToolAnnotations, ToolExecution
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .contract import DESCRIBE_TOOL, FIND_TOOL, RUN_TOOL, STATUS_TOOL
from .definitions import excerpt

MAX_RESULTS = 50
SUMMARY_CHARACTERS = 240
# How much a word found in each part of a workflow counts.
FIELD_WEIGHTS = {"name": 3.0, "title": 2.0, "tags": 1.5, "description": 1.0}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(text: str) -> list[str]:
    """The words of ``text``, lower case: snake_case, kebab-case and camelCase split, and
    accents kept (a query in the workflow's own spelling matches)."""
    found: list[str] = []
    for part in re.split(r"[^\w]+|_", text):
        found.extend(w.lower() for w in (_WORD.findall(part) if part.isascii() else [part]) if w)
    return found


# The arguments of the three tools. strict: a limit of "3" is refused, as the workflow tools
# refuse a string for a number; the descriptions are what clients show.
class FindQuery(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        title="FindWorkflows",
        json_schema_extra={"description": "Words to find workflows by."},
    )

    query: str = Field(
        max_length=500,
        description="Words for what the workflow should do or be called (e.g. 'refund order'); "
        "an empty query lists the workflows by name.",
    )
    limit: int = Field(default=10, ge=1, le=MAX_RESULTS, description="Matches to return.")
    offset: int = Field(default=0, ge=0, description="Matches to skip (for the next ones).")


class DescribeQuery(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        title="DescribeWorkflow",
        json_schema_extra={"description": "The workflow to describe."},
    )

    name: str = Field(max_length=200, description="The workflow's tool name, as found.")


class RunRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        title="RunWorkflow",
        json_schema_extra={"description": "The workflow to run, and its arguments."},
    )

    name: str = Field(max_length=200, description="The workflow's tool name, as found.")
    arguments: dict[str, Any] = Field(
        default_factory=dict,
        description="The workflow's arguments: an object that matches the inputSchema "
        "describe_workflow gives (idempotency_key included, for workflows that take one).",
    )


# Words that say nothing of what a workflow does (a query of only these finds nothing).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "when",
        "which",
        "while",
        "with",
    ]
)
EXACT_NAME = 1000.0  # a query that is a workflow's name (or its title) ranks it first
EXACT_TITLE = 500.0


@dataclass(frozen=True)
class _Document:
    name: str
    entry: Mapping[str, Any]
    fields: Mapping[str, Counter[str]]
    name_words: tuple[str, ...]
    title_words: tuple[str, ...]


def _common_prefix(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


class Index:
    """The workflows one server offers, searchable: built once from their ``tools/list``
    entries and each machine's tags.

    A query word matches a word of a workflow exactly, by its stem (a common beginning of at
    least four letters and most of the shorter word: ``orders``, ``ordered`` → ``order``;
    ``analyse`` → ``analyze``), or as a likely typo. Rarer words count more; a word that every
    workflow has in one part counts for nothing there (``status`` is in every generated
    description, yet names ``order_status``), nor do stop words. A query that spells a
    workflow's name or title ranks it first."""

    def __init__(
        self, entries: Sequence[Mapping[str, Any]], tags: Mapping[str, Sequence[tuple[str, str]]]
    ) -> None:
        self.documents: dict[str, _Document] = {}
        for entry in entries:
            name = str(entry["name"])
            tag_text = " ".join(f"{key} {value}" for key, value in tags.get(name, ()))
            title = str(entry.get("title") or "")
            texts = {
                "name": name,
                "title": title,
                "description": str(entry.get("description") or ""),
                "tags": tag_text,
            }
            fields = {field: Counter(words(text)) for field, text in texts.items()}
            self.documents[name] = _Document(
                name, entry, fields, tuple(words(name)), tuple(words(title))
            )
        # How rare each word is in each part (a word every description has, such as the
        # generated "status", still tells workflows apart in their names)
        total = len(self.documents)
        self._rarity: dict[str, dict[str, float]] = {}
        for field in FIELD_WEIGHTS:
            frequency: Counter[str] = Counter()
            for document in self.documents.values():
                frequency.update(set(document.fields[field]))
            self._rarity[field] = {
                w: math.log(1 + (total - n + 0.5) / (n + 0.5))
                for w, n in frequency.items()
                if w not in STOP_WORDS and (n < total or total == 1)
            }
        self._vocabulary = sorted({w for rarity in self._rarity.values() for w in rarity})
        self._known = frozenset(self._vocabulary)

    def _matches(self, term: str) -> dict[str, float]:
        """The telling words that ``term`` stands for, and how closely (1 for itself)."""
        found = {term: 1.0} if term in self._known else {}
        for word in self._vocabulary:
            if word == term:
                continue
            common = _common_prefix(term, word)
            shorter = min(len(term), len(word))
            if common >= 4 and common >= 0.6 * shorter or common == shorter >= 3:
                found[word] = 0.4 + 0.5 * common / max(len(term), len(word))
        if not found and len(term) >= 4:  # a likely typo: the closest spellings
            for word in difflib.get_close_matches(term, self._vocabulary, n=3, cutoff=0.8):
                found[word] = 0.4
        return found

    def _score(
        self, document: _Document, terms: Mapping[str, dict[str, float]], spelled: tuple[str, ...]
    ) -> float:
        score = 0.0
        for matches in terms.values():
            best = 0.0
            for word, closeness in matches.items():
                weight = sum(
                    FIELD_WEIGHTS[field]
                    * (1 + math.log(counts[word]))
                    * self._rarity[field].get(word, 0.0)
                    for field, counts in document.fields.items()
                    if counts[word]
                )
                best = max(best, closeness * weight)
            score += best
        if spelled and spelled == document.name_words:
            score += EXACT_NAME
        elif spelled and spelled == document.title_words:
            score += EXACT_TITLE
        return score

    def find(self, query: FindQuery) -> dict[str, Any]:
        """The workflows that match the query, best first (by name among equals)."""
        spelled = tuple(words(query.query))
        terms = {
            term: matches
            for term in dict.fromkeys(spelled)
            if term not in STOP_WORDS and (matches := self._matches(term))
        }
        hint = ""
        if terms or (spelled and any(spelled == d.name_words for d in self.documents.values())):
            scored = [(self._score(d, terms, spelled), d) for d in self.documents.values()]
            ranked = sorted(
                ((s, d) for s, d in scored if s > 0), key=lambda item: (-item[0], item[1].name)
            )
        elif spelled:  # words, none of which tells the workflows apart
            ranked = []
        else:
            ranked = [(0.0, d) for d in sorted(self.documents.values(), key=lambda d: d.name)]
            if query.query.strip():
                hint = "The query has no words (letters or digits), so these are all, by name. "
        page = ranked[query.offset : query.offset + query.limit]
        found: dict[str, Any] = {
            "query": query.query,
            "total": len(ranked),
            "workflows": [self._summary(document, score) for score, document in page],
        }
        if not ranked:
            names = {d.name.replace("_", " "): d.name for d in self.documents.values()}
            near = difflib.get_close_matches(" ".join(spelled), list(names), n=3)
            hint = "No workflow matches those words. " + (
                f"Close names: {', '.join(names[n] for n in near)}."
                if near
                else f"Try other words, or an empty query to list all {len(self.documents)}."
            )
        elif query.offset + query.limit < len(ranked):
            hint += (
                f"{len(ranked) - query.offset - query.limit} more: call {FIND_TOOL} again with "
                f"offset {query.offset + query.limit}."
            )
        if hint:
            found["hint"] = hint.strip()
        return found

    def _summary(self, document: _Document, score: float) -> dict[str, Any]:
        entry = document.entry
        annotations = entry.get("annotations") or {}
        description = str(entry.get("description") or "")
        first = description.split("\n\n", 1)[0].strip()
        summary: dict[str, Any] = {
            "name": document.name,
            "title": entry.get("title") or document.name,
            "summary": _shortened(first),
            "readOnly": annotations.get("readOnlyHint") is True,
        }
        if score:
            summary["score"] = round(score, 3)
        return summary

    def describe(self, name: str) -> dict[str, Any] | str:
        """The workflow's ``tools/list`` entry, with how to run it; or why there is none."""
        if name not in self.documents:
            return self.unknown(name)
        entry = dict(self.documents[name].entry)
        entry["howToRun"] = (
            f"Call {RUN_TOOL} with name {name!r} and arguments matching inputSchema. A STANDARD "
            f"run that outlasts its wait answers RUNNING with the execution ARN: follow it with "
            f"{STATUS_TOOL}."
        )
        return entry

    def unknown(self, name: str) -> str:
        lowered = {n.lower(): n for n in self.documents}
        near = [lowered[n] for n in difflib.get_close_matches(name.lower(), list(lowered), n=3)]
        also = f" Did you mean {', '.join(near)}?" if near else ""
        return (
            f"No workflow {excerpt(name, 128)} on this server.{also} Find workflows with "
            f"{FIND_TOOL}."
        )


def _shortened(text: str) -> str:
    if len(text) <= SUMMARY_CHARACTERS:
        return text
    return text[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0] + "…"


def invalid(tool_name: str, exc: ValidationError, *, started: bool = True) -> str:
    """What is wrong with a search tool's arguments, one line per problem, as the workflow
    tools say it (``started=False``: the call would have run a workflow)."""
    nothing = "" if started else "; nothing was started"
    lines = [f"Invalid arguments for {tool_name}{nothing}:"]
    for error in exc.errors(include_url=False)[:10]:
        where = ".".join(str(p) for p in error["loc"]) or "(arguments)"
        lines.append(f"- {where[:80]}: {error['msg']}")
    return "\n".join(lines)


def _cautious(entries: Sequence[Mapping[str, Any]]) -> dict[str, bool]:
    """The annotations of a tool that may run any of these workflows: the most cautious of
    theirs (read-only only if all are, destructive if any may be, and so on)."""
    hints = [e.get("annotations") or {} for e in entries]

    def every(key: str, default: bool) -> bool:
        return all(h.get(key, default) is True for h in hints)

    def some(key: str, default: bool) -> bool:
        return any(h.get(key, default) is True for h in hints)

    read_only = every("readOnlyHint", False)
    return {
        "read_only_hint": read_only,
        "destructive_hint": False if read_only else some("destructiveHint", True),
        "idempotent_hint": every("idempotentHint", False),
        "open_world_hint": some("openWorldHint", True),
    }


FIND_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "total": {"type": "integer", "description": "How many workflows match in all."},
        "workflows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "title": {"type": "string"},
                    "summary": {"type": "string"},
                    "readOnly": {"type": "boolean"},
                    "score": {"type": "number"},
                },
                "required": ["name", "title", "summary", "readOnly"],
            },
        },
        "hint": {"type": "string"},
    },
    "required": ["query", "total", "workflows"],
}
DESCRIBE_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "inputSchema": {"type": "object"},
        "outputSchema": {"type": "object"},
        "annotations": {"type": "object"},
        "execution": {"type": "object"},
        "howToRun": {"type": "string"},
    },
    "required": ["name", "inputSchema", "howToRun"],
}
READING = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def search_tools(entries: Sequence[Mapping[str, Any]]) -> list[McpTool]:
    """The ``tools/list`` entries of the three search tools for these workflows."""
    count = len(entries)
    tasks = any((e.get("execution") or {}).get("taskSupport") == "optional" for e in entries)
    return [
        McpTool(
            name=FIND_TOOL,
            title="Find workflows",
            description=f"Search this server's {count} AWS Step Functions workflows by words in "
            "their names, titles, descriptions and tags; best matches first. Then read one "
            f"with {DESCRIBE_TOOL} and run it with {RUN_TOOL}.",
            input_schema=FindQuery.model_json_schema(),
            output_schema=FIND_OUTPUT,
            annotations=READING.model_copy(update={"title": "Find workflows"}),
        ),
        McpTool(
            name=DESCRIBE_TOOL,
            title="Describe a workflow",
            description="One workflow's input schema (what run_workflow's arguments must be), "
            "output schema and behaviour hints, exactly as its own tool would list them.",
            input_schema=DescribeQuery.model_json_schema(),
            output_schema=DESCRIBE_OUTPUT,
            annotations=READING.model_copy(update={"title": "Describe a workflow"}),
        ),
        McpTool(
            name=RUN_TOOL,
            title="Run a workflow",
            description="Run one workflow by name with arguments matching its inputSchema (see "
            f"{DESCRIBE_TOOL}). The arguments are checked and the result given exactly as by the "
            "workflow's own tool: the execution's status, output, error and cause. Its hints are "
            "the most cautious of the workflows it can run; each workflow's own are in "
            f"{DESCRIBE_TOOL}.",
            input_schema=RunRequest.model_json_schema(),
            annotations=ToolAnnotations(title="Run a workflow", **_cautious(entries)),
            execution=ToolExecution(task_support="optional" if tasks else "forbidden"),
        ),
    ]
