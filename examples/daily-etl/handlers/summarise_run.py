"""Summarise one daily ETL run from the per-table results of the Map state."""

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return {"runDate", "dryRun", "status", "tables", "totalRows", "missingTables"}.

    status is COMPLETE when every table had an extract, PARTIAL otherwise.
    """
    request = event.get("request") or {}
    results = event.get("results") or []
    tables = [
        {
            "table": result["table"],
            "status": result["status"],
            "rows": result.get("rows", 0),
            "target": result.get("target"),
        }
        for result in results
    ]
    missing = [table["table"] for table in tables if table["status"] == "missing"]
    return {
        "runDate": request.get("runDate"),
        "dryRun": bool(request.get("dryRun", False)),
        "status": "PARTIAL" if missing else "COMPLETE",
        "tables": tables,
        "totalRows": sum(table["rows"] for table in tables),
        "missingTables": missing,
    }
