"""Check stock for every line of an order.

The demo warehouse has everything in stock except SKUs that start with "OOS-". The result is
data the state machine routes on with a Choice state (ministack loses Lambda exception types,
so the workflow does not rely on catching a named exception).
"""

from typing import Any

OUT_OF_STOCK_PREFIX = "OOS-"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return {"orderId", "inStock", "outOfStockSkus", "outOfStockList", "checkedSkus"}."""
    skus = [item["sku"] for item in event.get("items", [])]
    missing = sorted({sku for sku in skus if sku.startswith(OUT_OF_STOCK_PREFIX)})
    return {
        "orderId": event.get("orderId"),
        "inStock": not missing,
        "outOfStockSkus": missing,
        "outOfStockList": ", ".join(missing),
        "checkedSkus": len(set(skus)),
    }
