"""Alpaca historical stock bars (alpaca-py); import this subpackage only where Alpaca is used."""

from quant_marketdata.alpaca.client import AlpacaSource
from quant_marketdata.alpaca.settings import AlpacaDataSettings, get_settings

__all__ = ["AlpacaDataSettings", "AlpacaSource", "get_settings"]
