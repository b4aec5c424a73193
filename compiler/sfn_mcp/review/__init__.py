"""Review: what changed in a generated server's tool surface, and does it break its clients?

- ``surface``: the model, a ``Surface`` (a parsed ``surface.json``) and the ``Change`` s found;
- ``load``: surfaces from a file, a package directory or a git revision;
- ``rules``: the breaking-change rules, as a table (``RULES``) with one constant per rule;
- ``schemas``: a small pure library of JSON Schema set comparison;
- ``walk``: the schema walker, findings of the schema rules;
- ``tools``: tool- and server-level rules, renames;
- ``compare``: ``compare(old, new)``, every change, classified and ordered;
- ``render``: the text, markdown and JSON formats;
- ``check``: ``sfn-mcp check``, the committed package against what ``generate`` writes now.
"""
