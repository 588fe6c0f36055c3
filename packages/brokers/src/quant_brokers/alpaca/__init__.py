"""Alpaca as a live broker: alpaca-py REST for orders, our own trade_updates socket for reports."""

from quant_brokers.alpaca.client import AlpacaBroker
from quant_brokers.alpaca.rest import AlpacaTimings
from quant_brokers.alpaca.settings import AlpacaBrokerSettings, get_settings

__all__ = ["AlpacaBroker", "AlpacaBrokerSettings", "AlpacaTimings", "get_settings"]
