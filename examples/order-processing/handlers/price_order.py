"""Price an order: subtotal, loyalty discount, tax and total.

Input (from the state machine): {"orderId", "items": [{"sku", "quantity", "unitPrice"}],
"currency", "customer": {"tier", ...}}. Amounts are rounded half-up to cents.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TAX_RATES = {"USD": Decimal("0.0825"), "EUR": Decimal("0.20"), "GBP": Decimal("0.20")}
TIER_DISCOUNTS = {"standard": Decimal("0"), "gold": Decimal("0.05"), "platinum": Decimal("0.10")}
CENT = Decimal("0.01")


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Return {"orderId", "subtotal", "discount", "tax", "taxRate", "total"} for the order."""
    subtotal = sum(
        (Decimal(str(item["unitPrice"])) * int(item["quantity"]) for item in event["items"]),
        Decimal("0"),
    )
    tier = (event.get("customer") or {}).get("tier", "standard")
    discount = (subtotal * TIER_DISCOUNTS.get(tier, Decimal("0"))).quantize(CENT, ROUND_HALF_UP)
    tax_rate = TAX_RATES.get(event.get("currency", "USD"), Decimal("0"))
    tax = ((subtotal - discount) * tax_rate).quantize(CENT, ROUND_HALF_UP)
    total = subtotal - discount + tax
    return {
        "orderId": event.get("orderId"),
        "subtotal": _money(subtotal),
        "discount": _money(discount),
        "tax": _money(tax),
        "taxRate": float(tax_rate),
        "total": _money(total),
    }
