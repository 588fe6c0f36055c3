"""Every table of the platform, registered on one metadata for the Alembic history."""

from quant_db.schema.base import Base
from quant_db.schema.controls import Alert, KillSwitchState
from quant_db.schema.identity import ApiKey, AuditEntry, RefreshToken, User
from quant_db.schema.market import IngestionRun, PriceBar, PriceBlock, QuarantinedBar
from quant_db.schema.runs import EquityPoint, MetricPoint, Run, RunReport, Strategy
from quant_db.schema.trading import Fill, Order, Position, Trade

__all__ = [
    "Alert",
    "ApiKey",
    "AuditEntry",
    "Base",
    "EquityPoint",
    "Fill",
    "IngestionRun",
    "KillSwitchState",
    "MetricPoint",
    "Order",
    "Position",
    "PriceBar",
    "PriceBlock",
    "QuarantinedBar",
    "RefreshToken",
    "Run",
    "RunReport",
    "Strategy",
    "Trade",
    "User",
]
