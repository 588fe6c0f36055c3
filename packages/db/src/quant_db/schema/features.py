"""The feature store: feature-set versions and their computed values in per-year blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base


class FeatureSetVersion(Base):
    """One version of a feature set: its canonical definition and output columns (ADR 0047)."""

    __tablename__ = "feature_set_versions"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    definition: Mapped[dict[str, Any]]
    columns: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ComputedFeatureInput(Base):
    """The bars one symbol's stored values were computed from: a stored block is reused only
    when the bars asked for have the same digest."""

    __tablename__ = "computed_feature_inputs"

    version: Mapped[str] = mapped_column(
        ForeignKey("feature_set_versions.version", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    bars: Mapped[int] = mapped_column(Integer)
    first_ts: Mapped[datetime]
    last_ts: Mapped[datetime]
    digest: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ComputedFeatures(Base):
    """One symbol's feature rows of one UTC year for one version, packed (quant_db.feature_store
    ROW layout: int64 microseconds, then one float8 per column), in time order."""

    __tablename__ = "computed_features"

    version: Mapped[str] = mapped_column(
        ForeignKey("feature_set_versions.version", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
