"""Cases: receipt numbers, the status catalog, and the case services (``core.cases.service``).

Only the pure parts are re-exported here, so importing a receipt number loads no database code.
"""

from __future__ import annotations

from core.cases.receipt import ReceiptNumber, ServiceCenter, find_receipt_number
from core.cases.statuses import STATUSES, Category, NextStep, Status, get_status

__all__ = [
    "STATUSES",
    "Category",
    "NextStep",
    "ReceiptNumber",
    "ServiceCenter",
    "Status",
    "find_receipt_number",
    "get_status",
]
