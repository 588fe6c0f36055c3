"""The data service: validated, idempotent bulk loading of market data into PostgreSQL."""

from quant_ingestion.ingest import IngestionSummary, ingest

__all__ = ["IngestionSummary", "ingest"]
