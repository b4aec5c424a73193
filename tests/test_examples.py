"""The four example workflows, run with plain boto3 against the seeded local AWS.

The first tests check the example folders themselves (no AWS needed); the others are
integration tests that use the session ``local_aws`` fixture.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from localaws.seed import EXAMPLES_DIR, TEMPLATE, handler_zip
from localaws.stack import LocalAws
from localaws.stack import count_executions as paginated_count
from sfn_mcp.read.repository.load import load_template
from tests.sources import example_records

ORDERS = "ai-workflows-order-processing"
ETL = "ai-workflows-daily-etl"
DOCUMENTS = "ai-workflows-document-analysis"
TRIAGE = "ai-workflows-support-triage"
TAG = "input-schema-arn"

ORDER_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7f9d1c2e-0b7a-4c8e-9a51-3e2f6d8b4a10",
    "detail-type": "OrderPlaced",
    "source": "com.example.shop",
    "account": "000000000000",
    "time": "2026-11-23T09:30:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "orderId": "ORD-10042",
        "customer": {"customerId": "CUST-17", "email": "ada@example.com", "tier": "gold"},
        "items": [
            {"sku": "KB-1001", "quantity": 2, "unitPrice": 49.99},
            {"sku": "MS-2001", "quantity": 1, "unitPrice": 25.0},
        ],
        "currency": "USD",
        "shippingAddress": {
            "street": "1 Analytical Way",
            "city": "London",
            "postalCode": "N1 9GU",
            "country": "GB",
        },
    },
}


def order_event(order_id: str, *extra_items: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(ORDER_EVENT)
    event["id"] = str(uuid.uuid4())
    event["detail"]["orderId"] = order_id
    event["detail"]["items"].extend(extra_items)
    return event


def output(execution: dict[str, Any]) -> Any:
    return json.loads(execution["output"])


# --- the example folders -----------------------------------------------------------------------


def test_examples_are_complete_and_consistent() -> None:
    records = {record.name: record for record in example_records()}
    assert set(records) == {ORDERS, ETL, DOCUMENTS, TRIAGE}
    assert records[DOCUMENTS].type == "EXPRESS"
    assert {records[name].type for name in (ORDERS, ETL, TRIAGE)} == {"STANDARD"}
    assert records[TRIAGE].schema is None and "lambda" not in records[TRIAGE].definition
    for record in records.values():
        definition = json.loads(record.definition)
        assert len(definition["Comment"]) > 40, record.name
        # Every substitution of the template resolved: what is deployed names real resources.
        assert "${" not in record.definition, record.name
        if record.schema is not None:
            assert record.schema.ref.registry == "ai-workflows"
            json.loads(record.schema.content)
    resources = load_template(EXAMPLES_DIR / TEMPLATE)["Resources"]
    functions = {k: r for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == 6
    for key, function in functions.items():
        module = function["Properties"]["Handler"].split(".")[0]
        assert (EXAMPLES_DIR / function["Properties"]["CodeUri"] / f"{module}.py").is_file(), key
        name = function["Properties"]["FunctionName"]
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        assert any(arn in r.definition for r in records.values()), f"{key} is used by no workflow"


def test_handler_zip_is_reproducible() -> None:
    folder = EXAMPLES_DIR / "order-processing" / "handlers"
    assert handler_zip(folder) == handler_zip(folder)


def test_order_schema_is_an_eventbridge_schema() -> None:
    (orders,) = [r for r in example_records() if r.name == ORDERS]
    assert orders.schema is not None and orders.schema.type == "OpenApi3"
    schema = json.loads(orders.schema.content)
    envelope = schema["components"]["schemas"]["AWSEvent"]
    assert envelope["x-amazon-events-source"] == "com.example.shop"
    assert envelope["x-amazon-events-detail-type"] == "OrderPlaced"
    assert envelope["properties"]["detail"] == {"$ref": "#/components/schemas/OrderPlaced"}
    for name in ("OrderPlaced", "Customer", "Item", "Address"):
        for field, spec in schema["components"]["schemas"][name]["properties"].items():
            assert "description" in spec or "$ref" in spec, f"{name}.{field}"


# --- the seeded local AWS ----------------------------------------------------------------------


def test_machines_are_seeded_with_tags_and_schemas(local_aws: LocalAws) -> None:
    sfn = local_aws.client("stepfunctions")
    schemas = local_aws.client("schemas")
    for name, kind, schema_name in (
        (ORDERS, "STANDARD", "com.example.shop@OrderPlaced"),
        (ETL, "STANDARD", "DailyEtlRequest"),
        (DOCUMENTS, "EXPRESS", "DocumentAnalysisRequest"),
        (TRIAGE, "STANDARD", None),
    ):
        arn = local_aws.machine_arn(name)
        described = sfn.describe_state_machine(stateMachineArn=arn)
        assert described["type"] == kind
        assert "Comment" in json.loads(described["definition"])
        assert "${" not in described["definition"]
        tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=arn)["tags"]}
        if schema_name is None:
            assert TAG not in tags
            continue
        schema = schemas.describe_schema(RegistryName="ai-workflows", SchemaName=schema_name)
        assert tags[TAG] == schema["SchemaArn"]
        assert schema["SchemaArn"].endswith(f":schema/ai-workflows/{schema_name}")


def test_order_processing_confirms_an_order_and_records_it(local_aws: LocalAws) -> None:
    order_id = f"ORD-{uuid.uuid4().int % 10**8:08d}"
    execution = local_aws.run_execution(ORDERS, order_event(order_id))
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    result = output(execution)
    # 2 x 49.99 + 25.00 = 124.98; gold: -6.25; tax 8.25 % of 118.73 = 9.80
    assert result["status"] == "CONFIRMED"
    assert result["orderId"] == order_id
    assert result["total"] == 128.53
    assert result["currency"] == "USD"
    assert result["reservationId"].startswith("RES-")
    item = local_aws.client("dynamodb").get_item(
        TableName="ai-workflows-orders", Key={"orderId": {"S": order_id}}
    )["Item"]
    assert item["status"] == {"S": "CONFIRMED"}
    assert item["total"] == {"N": "128.53"}
    assert item["customerId"] == {"S": "CUST-17"}


def test_order_processing_fails_out_of_stock(local_aws: LocalAws) -> None:
    order_id = f"ORD-{uuid.uuid4().int % 10**8:08d}"
    event = order_event(order_id, {"sku": "OOS-404", "quantity": 1, "unitPrice": 9.5})
    execution = local_aws.run_execution(ORDERS, event)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "OutOfStock"
    assert "OOS-404" in execution["cause"] and order_id in execution["cause"]
    assert "KB-1001" not in execution["cause"]
    table = local_aws.client("dynamodb")
    found = table.get_item(TableName="ai-workflows-orders", Key={"orderId": {"S": order_id}})
    assert "Item" not in found  # nothing was recorded


def test_daily_etl_writes_curated_json(local_aws: LocalAws) -> None:
    request = {"runDate": "2026-11-20", "tables": ["orders", "customers", "inventory"]}
    execution = local_aws.run_execution(ETL, request)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    result = output(execution)
    assert result["status"] == "COMPLETE"
    assert result["totalRows"] == 15
    assert [table["table"] for table in result["tables"]] == ["orders", "customers", "inventory"]
    s3 = local_aws.client("s3")
    body = s3.get_object(Bucket="ai-workflows-curated", Key="curated/orders/2026-11-20.json")
    curated = json.loads(body["Body"].read())
    assert curated["rows"] == 6
    assert curated["aggregates"]["amount"]["sum"] == 600.2
    assert curated["aggregates"]["status"]["counts"]["shipped"] == 4


def test_daily_etl_dry_run_writes_nothing_and_reports_missing_extracts(
    local_aws: LocalAws,
) -> None:
    s3 = local_aws.client("s3")
    key = "curated/orders/2026-11-21.json"
    s3.delete_object(Bucket="ai-workflows-curated", Key=key)
    request = {"runDate": "2026-11-21", "tables": ["orders", "inventory"], "dryRun": True}
    execution = local_aws.run_execution(ETL, request)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    result = output(execution)
    assert result["dryRun"] is True
    assert result["status"] == "PARTIAL"
    assert result["missingTables"] == ["inventory"]
    assert result["totalRows"] == 4
    listed = s3.list_objects_v2(Bucket="ai-workflows-curated", Prefix=key)
    assert listed.get("KeyCount", 0) == 0


def test_document_analysis_runs_synchronously(local_aws: LocalAws) -> None:
    sync = local_aws.client("stepfunctions", config=Config(inject_host_prefix=False))
    request = {
        "bucket": "ai-workflows-documents",
        "key": "docs/customer-feedback-digest.txt",
        "maxKeywords": 3,
    }
    response = sync.start_sync_execution(
        stateMachineArn=local_aws.machine_arn(DOCUMENTS), input=json.dumps(request)
    )
    assert response["status"] == "SUCCEEDED", response.get("cause")
    results = json.loads(response["output"])["results"]
    assert results["wordCount"] > 100
    assert len(results["keywords"]) == 3
    assert results["sentiment"]["label"] == "positive"
    assert results["readingTime"]["minutes"] == 1


def test_document_analysis_reports_a_missing_document(local_aws: LocalAws) -> None:
    sync = local_aws.client("stepfunctions", config=Config(inject_host_prefix=False))
    request = {"bucket": "ai-workflows-documents", "key": "docs/does-not-exist.txt"}
    response = sync.start_sync_execution(
        stateMachineArn=local_aws.machine_arn(DOCUMENTS), input=json.dumps(request)
    )
    assert response["status"] == "FAILED"
    assert response["error"] == "DocumentNotFound"
    assert "docs/does-not-exist.txt" in response["cause"]


@pytest.mark.parametrize(
    ("ticket", "priority", "queue", "sla_hours"),
    [
        (
            {
                "subject": "Checkout outage in the EU",
                "body": "Nobody can pay since 14:02.",
                "customerTier": "platinum",
            },
            "P1",
            "incident-response",
            2,
        ),
        (
            {"subject": "Invoice", "body": "I was charged twice.", "customerTier": "gold"},
            "P2",
            "billing",
            6,
        ),
        ({"subject": "Gift wrap?", "body": "Do you offer gift wrapping?"}, "P4", "general", 72),
    ],
)
def test_support_triage_routes_with_jsonata(
    local_aws: LocalAws, ticket: dict[str, str], priority: str, queue: str, sla_hours: float
) -> None:
    execution = local_aws.run_execution(TRIAGE, ticket)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    result = output(execution)
    assert (result["priority"], result["queue"], result["slaHours"]) == (
        priority,
        queue,
        sla_hours,
    )
    assert result["escalate"] is (priority == "P1")


def test_count_executions_pages_through_every_execution(
    local_aws: LocalAws, count_executions: Any
) -> None:
    before = count_executions(TRIAGE)
    for _ in range(3):
        local_aws.run_execution(TRIAGE, {"subject": "hello"})
    assert count_executions(TRIAGE) == before + 3
    sfn = local_aws.client("stepfunctions")
    assert paginated_count(sfn, local_aws.machine_arn(TRIAGE), page_size=1) == before + 3


def test_examples_dir_is_the_repository_one() -> None:
    assert Path(EXAMPLES_DIR).resolve() == Path(__file__).resolve().parent.parent / "examples"
