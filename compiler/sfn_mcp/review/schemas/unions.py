"""Union members (``anyOf``/``oneOf`` members, entries of a ``type`` list) and how an old and a
new union are paired.

Members are matched by type family (``integer`` and ``number`` are one); among several of one
family, identical members pair first, then those with the same class label, then the most alike,
then by position, so reordering a union changes nothing. A lone removed and a lone added non-null
member are paired as a change of type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from sfn_mcp.review.schemas.keywords import EVERY_TYPE, annotations_of, validation_of
from sfn_mcp.review.schemas.types import types
from sfn_mcp.review.schemas.values import canonical, fmt


class Branch(NamedTuple):
    """One alternative of a (possibly) union schema, with the $refs that led to it."""

    schema: dict[str, Any]
    refs: tuple[str, ...]


def _name(branch: Branch) -> str:
    """A member's class name: its title, else the name of the last $ref that led to it."""
    schema = branch.schema
    return str(schema.get("title") or (branch.refs[-1].rsplit("/", 1)[-1] if branch.refs else ""))


def label(branch: Branch) -> str:
    """How a union member is named: its class (title or $defs name) or its type."""
    schema = branch.schema
    name = _name(branch)
    kinds = types(schema)
    kind = "any value" if kinds is None else "/".join(sorted(kinds))
    if "const" in schema:
        return f"{kind} {fmt(schema['const'])}"
    return f"{kind} {name}" if name and kinds == frozenset({"object"}) else kind


def marker(branch: Branch) -> str:
    """A union member in a path: its class name, else its type."""
    name = _name(branch)
    kinds = types(branch.schema)
    return name if name else "any" if kinds is None else "/".join(sorted(kinds))


def family(branch: Branch) -> str:
    """The member's types with integer counted as number (``any`` for every value)."""
    kinds = types(branch.schema)
    if kinds is None:
        return "any"
    families = sorted({"number" if t == "integer" else t for t in kinds})
    return "|".join(families)


def is_null(branch: Branch) -> bool:
    return types(branch.schema) == frozenset({"null"})


def any_value(branches: list[Branch]) -> list[Branch]:
    """A union of bare types that covers every JSON type (how pydantic spells ``Any`` with
    ``| None``) is one "any value" alternative, so typing it later reads as one change."""
    bare = [b for b in branches if set(validation_of(b.schema)) == {"type"} and not is_null(b)]
    covered = {t for b in bare for t in (types(b.schema) or ())}
    if not EVERY_TYPE.issubset(covered):
        return branches
    first = branches.index(bare[0])
    rest = [b for b in branches if b not in bare]
    return [*rest[:first], Branch({}, ()), *rest[first:]]


def simple(branches: list[Branch]) -> bool:
    """At most one alternative besides null."""
    return sum(not is_null(b) for b in branches) <= 1


def merged(level: dict[str, Any], branches: list[Branch]) -> tuple[dict[str, Any], list[Branch]]:
    """The annotations of a simple schema's one alternative join the level's (the level wins)."""
    words = dict(level)
    stripped = []
    for branch in branches:
        words = {**annotations_of(branch.schema), **words}
        stripped.append(Branch(validation_of(branch.schema), branch.refs))
    return words, stripped


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
        yield f"{at}={canonical(value)}"


Scorer = Callable[[list[Branch], list[Branch]], Callable[[int, int], float]]


def _identical(olds: list[Branch], news: list[Branch]) -> Callable[[int, int], float]:
    """1 for two members with the same schema (JSON numbers by value)."""
    keys_old = [canonical(b.schema) for b in olds]
    keys_new = [canonical(b.schema) for b in news]
    return lambda i, j: float(keys_old[i] == keys_new[j])


def _unique_label(olds: list[Branch], news: list[Branch]) -> Callable[[int, int], float]:
    """1 for two members with the same class label that no other member has."""
    labels_old, labels_new = [label(b) for b in olds], [label(b) for b in news]
    count_old, count_new = Counter(labels_old), Counter(labels_new)

    def score(i: int, j: int) -> float:
        name = labels_old[i]
        return float(name == labels_new[j] and count_old[name] == 1 == count_new[name])

    return score


def _alike(olds: list[Branch], news: list[Branch]) -> Callable[[int, int], float]:
    """How much two members look alike: shared facts over all facts (Jaccard), $refs included."""

    def facts(branch: Branch) -> set[str]:
        return {*_features(branch.schema), *(f"$ref {r}" for r in branch.refs[-1:])}

    facts_old, facts_new = [facts(b) for b in olds], [facts(b) for b in news]

    def score(i: int, j: int) -> float:
        union = facts_old[i] | facts_new[j]
        return len(facts_old[i] & facts_new[j]) / len(union) if union else 1.0

    return score


def _pair_best(
    olds: list[Branch], news: list[Branch], scorer: Scorer
) -> list[tuple[Branch, Branch]]:
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


def match(
    old: list[Branch], new: list[Branch]
) -> tuple[list[tuple[Branch, Branch]], list[Branch], list[Branch]]:
    """Pair union members: ``(pairs, removed, added)``. Unpaired ones were removed or added."""
    pairs: list[tuple[Branch, Branch]] = []
    removed: list[Branch] = []
    added: list[Branch] = []
    families = list(dict.fromkeys(family(b) for b in [*old, *new]))
    for kind in families:
        olds = [b for b in old if family(b) == kind]
        news = [b for b in new if family(b) == kind]
        if len(olds) > 1 or len(news) > 1:
            for scorer in (_identical, _unique_label, _alike):
                pairs.extend(_pair_best(olds, news, scorer))
        pairs.extend(zip(olds, news, strict=False))
        removed.extend(olds[len(news) :])
        added.extend(news[len(olds) :])
    lone_old = [b for b in removed if not is_null(b)]
    lone_new = [b for b in added if not is_null(b)]
    if len(lone_old) == 1 and len(lone_new) == 1:
        pairs.append((lone_old[0], lone_new[0]))
        removed.remove(lone_old[0])
        added.remove(lone_new[0])
    return pairs, removed, added
