"""Domain model shared by every layer: no I/O, standard library and pydantic only."""

from quant_domain.bars import Bar
from quant_domain.errors import (
    BrokerUnavailable,
    ConfigError,
    DataError,
    DataNotFoundError,
    DataQualityError,
    KillSwitchActive,
    OrderError,
    QuantError,
    RiskRejected,
)
from quant_domain.fills import Fill
from quant_domain.instruments import AssetClass, Instrument
from quant_domain.money import to_cents, to_decimal
from quant_domain.orders import (
    TERMINAL_STATUSES,
    KillSwitchMode,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from quant_domain.portfolio import EquityPoint, MarketState, PortfolioSnapshot, PortfolioView
from quant_domain.positions import Position
from quant_domain.signals import Signal, SignalDirection
from quant_domain.sizing import CostModel, PositionSizing, SizingMode
from quant_domain.time import Timeframe, TimeUnit, ensure_utc
from quant_domain.trades import Trade, TradeDirection

__all__ = [
    "TERMINAL_STATUSES",
    "AssetClass",
    "Bar",
    "BrokerUnavailable",
    "ConfigError",
    "CostModel",
    "DataError",
    "DataNotFoundError",
    "DataQualityError",
    "EquityPoint",
    "Fill",
    "Instrument",
    "KillSwitchActive",
    "KillSwitchMode",
    "MarketState",
    "Order",
    "OrderError",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PortfolioSnapshot",
    "PortfolioView",
    "Position",
    "PositionSizing",
    "QuantError",
    "RiskRejected",
    "Signal",
    "SignalDirection",
    "SizingMode",
    "TimeInForce",
    "TimeUnit",
    "Timeframe",
    "Trade",
    "TradeDirection",
    "ensure_utc",
    "to_cents",
    "to_decimal",
]
