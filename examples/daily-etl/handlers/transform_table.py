"""Transform one raw CSV extract into curated JSON.

Reads s3://$RAW_BUCKET/raw/<table>/<runDate>.csv, counts the rows, aggregates the columns
(sum/min/max/mean of numeric columns, value counts of low-cardinality text columns) and, unless
the request is a dry run, writes s3://$CURATED_BUCKET/curated/<table>/<runDate>.json.

A missing extract is not an error: the table comes back with status "missing" so the run
summary can report it.
"""

import csv
import io
import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3

MAX_DISTINCT_FOR_COUNTS = 10


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def aggregate(rows: list[dict[str, str]], columns: list[str]) -> dict[str, Any]:
    """Per-column aggregates: numeric statistics or value counts."""
    result: dict[str, Any] = {}
    for column in columns:
        values = [row[column] for row in rows if row.get(column) not in (None, "")]
        numbers = [_number(value) for value in values]
        if values and all(number is not None for number in numbers):
            nums = [number for number in numbers if number is not None]
            result[column] = {
                "sum": round(sum(nums), 2),
                "min": min(nums),
                "max": max(nums),
                "mean": round(sum(nums) / len(nums), 2),
            }
        elif 0 < len(set(values)) <= MAX_DISTINCT_FOR_COUNTS and len(set(values)) < len(values):
            counts: dict[str, int] = {}
            for value in values:
                counts[value] = counts.get(value, 0) + 1
            result[column] = {"counts": dict(sorted(counts.items()))}
    return result


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return {"table", "status", "rows", "source", "target", "aggregates"} for one table."""
    table = event["table"]
    run_date = event["runDate"]
    dry_run = bool((event.get("request") or {}).get("dryRun", False))
    raw_bucket = os.environ["RAW_BUCKET"]
    curated_bucket = os.environ["CURATED_BUCKET"]
    source_key = f"raw/{table}/{run_date}.csv"
    target_key = f"curated/{table}/{run_date}.json"
    source = f"s3://{raw_bucket}/{source_key}"

    s3 = boto3.client("s3")
    try:
        body = s3.get_object(Bucket=raw_bucket, Key=source_key)["Body"].read().decode("utf-8")
    except s3.exceptions.NoSuchKey:
        return {
            "table": table,
            "status": "missing",
            "rows": 0,
            "source": source,
            "target": None,
            "message": f"no extract for {table} on {run_date} at {source}",
        }

    reader = csv.DictReader(io.StringIO(body))
    rows = list(reader)
    columns = list(reader.fieldnames or [])
    aggregates = aggregate(rows, columns)
    target = None
    if not dry_run:
        curated = {
            "table": table,
            "runDate": run_date,
            "source": source,
            "rows": len(rows),
            "columns": columns,
            "aggregates": aggregates,
            "records": rows,
            "generatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        s3.put_object(
            Bucket=curated_bucket,
            Key=target_key,
            Body=json.dumps(curated, indent=2).encode("utf-8"),
            ContentType="application/json",
        )
        target = f"s3://{curated_bucket}/{target_key}"
    return {
        "table": table,
        "status": "dry-run" if dry_run else "written",
        "rows": len(rows),
        "source": source,
        "target": target,
        "aggregates": aggregates,
    }
