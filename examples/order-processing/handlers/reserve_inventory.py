"""Reserve the stock of an order for 30 minutes.

The reservation id is derived from the order id, so a retried reservation of the same order gets
the same id (an idempotent reservation, as a real warehouse API would offer).
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

RESERVATION_NAMESPACE = uuid.UUID("6f1c2a4e-3b9d-4f7a-9c1e-2d8b5a7e4f10")
HOLD = timedelta(minutes=30)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return {"orderId", "reservationId", "units", "expiresAt"}."""
    order_id = event["orderId"]
    reservation = uuid.uuid5(RESERVATION_NAMESPACE, order_id).hex[:12].upper()
    units = sum(int(item["quantity"]) for item in event.get("items", []))
    expires = datetime.now(UTC) + HOLD
    return {
        "orderId": order_id,
        "reservationId": f"RES-{reservation}",
        "units": units,
        "expiresAt": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
