"""Downsampling for charts: the vectorised twin keeps exactly what keep_extremes keeps."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from quant_api.binary_copy import parse_rows
from quant_api.downsampling import extreme_positions, keep_extremes


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.integers(-3, 3).map(float), st.floats(-1e9, 1e9, allow_nan=False)),
        min_size=0,
        max_size=300,
    ),
    target=st.integers(2, 80),
)
def test_extreme_positions_keeps_what_keep_extremes_keeps_ties_included(
    values: list[float], target: int
) -> None:
    expected = keep_extremes(values, target)
    assert extreme_positions(np.array(values, dtype=np.float64), target).tolist() == expected


def test_extreme_positions_keeps_the_global_low_and_high_of_a_long_series() -> None:
    rng = np.random.default_rng(4)
    values = np.cumsum(rng.normal(size=200_000))
    kept = extreme_positions(values, 1000)
    assert len(kept) <= 1000
    assert int(np.argmin(values)) in kept
    assert int(np.argmax(values)) in kept
    assert kept[0] == 0
    assert kept[-1] == values.size - 1


def test_a_binary_copy_stream_of_times_and_floats_is_read_whole() -> None:
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    rows = b""
    for micros, value in ((0, 1.5), (86_400_000_000, -2.25)):
        rows += (2).to_bytes(2, "big") + (8).to_bytes(4, "big") + micros.to_bytes(8, "big")
        rows += (8).to_bytes(4, "big") + np.array([value], dtype=">f8").tobytes()
    index, values = parse_rows(header + rows + (-1).to_bytes(2, "big", signed=True), floats=1)
    assert [ts.isoformat() for ts in index] == [
        "2000-01-01T00:00:00+00:00",
        "2000-01-02T00:00:00+00:00",
    ]
    assert values[:, 0].tolist() == [1.5, -2.25]
