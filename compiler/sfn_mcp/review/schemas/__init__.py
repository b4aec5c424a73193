"""A small, pure library of JSON Schema set comparison: schemas as sets of accepted values.

It knows nothing of tools, rules or findings (the walker in ``sfn_mcp.review.walk`` uses it):

- ``values``: JSON values compared by value (``1`` is ``1.0``, never ``true``), exact numbers;
- ``keywords``: keyword groups (annotations, per-type keywords) and views of a schema;
- ``types``: the type set a schema admits and how two sets relate;
- ``bounds``: bounds, lengths and ``multipleOf`` compared (narrow, widen, both or none);
- ``intersect``: ``allOf`` parts as one schema;
- ``unions``: union members and how an old and a new union pair up;
- ``document``: a schema document, its local ``$ref`` s resolved and its alternatives split.
"""

from sfn_mcp.review.schemas.bounds import Effect, bound, compare_limit, compare_multiple
from sfn_mcp.review.schemas.document import MAX_DEPTH, Document, UnresolvedRef
from sfn_mcp.review.schemas.intersect import intersect
from sfn_mcp.review.schemas.types import Relation, type_relation, types
from sfn_mcp.review.schemas.unions import Branch, match

__all__ = [
    "MAX_DEPTH",
    "Branch",
    "Document",
    "Effect",
    "Relation",
    "UnresolvedRef",
    "bound",
    "compare_limit",
    "compare_multiple",
    "intersect",
    "match",
    "type_relation",
    "types",
]
