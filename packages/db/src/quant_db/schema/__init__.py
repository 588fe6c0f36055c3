"""Every table of the platform, registered on one metadata for the Alembic history."""

from quant_db.schema.base import Base
from quant_db.schema.controls import Alert, KillSwitchState
from quant_db.schema.execution import (
    ProcessedEvent,
    Reconciliation,
    ReconciliationState,
    Resolution,
)
from quant_db.schema.features import ComputedFeatureInput, ComputedFeatures, FeatureSetVersion
from quant_db.schema.identity import ApiKey, AuditEntry, RefreshToken, User
from quant_db.schema.market import IngestionRun, PriceBar, PriceBlock, QuarantinedBar
from quant_db.schema.model_registry import ModelStage, ModelStageChange, RegisteredModel
from quant_db.schema.monitoring import AlertDelivery, Heartbeat
from quant_db.schema.risk import RiskPolicyVersion, RiskState
from quant_db.schema.runs import EquityPoint, MetricPoint, Run, RunReport, Strategy
from quant_db.schema.trading import Fill, Order, OrderEvent, Position, Trade

__all__ = [
    "Alert",
    "AlertDelivery",
    "ApiKey",
    "AuditEntry",
    "Base",
    "ComputedFeatureInput",
    "ComputedFeatures",
    "EquityPoint",
    "FeatureSetVersion",
    "Fill",
    "Heartbeat",
    "IngestionRun",
    "KillSwitchState",
    "MetricPoint",
    "ModelStage",
    "ModelStageChange",
    "Order",
    "OrderEvent",
    "Position",
    "PriceBar",
    "PriceBlock",
    "ProcessedEvent",
    "QuarantinedBar",
    "Reconciliation",
    "ReconciliationState",
    "RefreshToken",
    "RegisteredModel",
    "Resolution",
    "RiskPolicyVersion",
    "RiskState",
    "Run",
    "RunReport",
    "Strategy",
    "Trade",
    "User",
]
