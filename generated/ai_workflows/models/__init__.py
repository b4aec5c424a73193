"""Input models: one module per EventBridge schema version, made by datamodel-code-generator."""
