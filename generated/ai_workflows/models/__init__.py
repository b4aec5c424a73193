"""Input models: one module per EventBridge schema version, made by datamodel-code-generator.

Nothing is imported here: a tool imports its own modules on its first call (tools.py)."""
