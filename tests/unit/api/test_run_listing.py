"""The runs list's order and label filter, as SQL (ADR 0018)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql

from quant_api.run_listing import label_contains, order_by
from quant_api.schemas.v1.runs import RunSort, SortOrder


def _sql(clause: object) -> str:
    return str(
        clause.compile(  # type: ignore[attr-defined]
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )


def test_a_metric_sort_puts_runs_without_it_last_then_newest_then_id() -> None:
    assert [_sql(c) for c in order_by(RunSort.SHARPE, SortOrder.ASC)] == [
        "runs.key_sharpe ASC NULLS LAST",
        "runs.created_at DESC",
        "runs.id ASC",
    ]
    assert [_sql(c) for c in order_by(RunSort.CREATED_AT, SortOrder.DESC)] == [
        "runs.created_at DESC NULLS LAST",
        "runs.id ASC",
    ]


def test_every_sort_key_has_a_column() -> None:
    for key in RunSort:
        assert order_by(key, SortOrder.DESC)


def test_label_wildcards_match_themselves() -> None:
    clause = label_contains(r"50%_x\y")
    assert clause.right.value == r"%50\%\_x\\y%"  # type: ignore[attr-defined]
    assert _sql(clause).endswith("ESCAPE '\\'")
