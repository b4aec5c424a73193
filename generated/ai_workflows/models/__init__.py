"""Input models: one module per EventBridge schema version, made by datamodel-code-generator."""

from . import (
    daily_etl_request,
    document_analysis_request,
    document_analysis_result,
    order_placed,
    support_triage_input,
)

__all__ = [
    "daily_etl_request",
    "document_analysis_request",
    "document_analysis_result",
    "order_placed",
    "support_triage_input",
]
