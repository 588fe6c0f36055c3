"""Purged splits: no training label window may touch the fold it is validated on."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest

from quant_models.errors import ModelError
from quant_models.splits import (
    CombinatorialPurgedCV,
    EventTimes,
    Fold,
    PurgedWalkForward,
    date_groups,
)

DAY = np.timedelta64(1, "D")


def daily(n_dates: int, horizon_days: int, n_symbols: int = 1) -> EventTimes:
    """A panel in time order: every symbol has a row each day, its label known horizon days on."""
    dates = pd.date_range("2020-01-01", periods=n_dates, freq="D").to_numpy()
    t0 = np.repeat(dates, n_symbols)
    return EventTimes.of(t0, t0 + horizon_days * DAY)


def leaking_rows(times: EventTimes, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Training rows whose label window [t0, t1] overlaps some test row's window."""
    out = []
    for row in train:
        hit = (times.t0[row] <= times.t1[test]) & (times.t1[row] >= times.t0[test])
        if hit.any():
            out.append(int(row))
    return np.array(out, dtype=np.int64)


def test_a_planted_label_window_running_into_the_test_fold_is_purged() -> None:
    times = daily(60, horizon_days=1)
    planted = 20  # a training sample whose label is decided inside the last fold's dates
    times.t1[planted] = times.t0[55]
    fold = PurgedWalkForward(n_splits=2).split(times)[-1]
    naive_train = np.flatnonzero(times.t0 < times.t0[fold.test].min())
    # without purging the planted sample leaks, and the check sees it
    assert planted in leaking_rows(times, naive_train, fold.test)
    assert planted not in fold.train
    assert leaking_rows(times, fold.train, fold.test).size == 0
    assert fold.purged == 2  # the planted row and the day before the fold (its label ends in it)


def test_walk_forward_trains_on_the_past_only_and_tests_every_later_block_once() -> None:
    times = daily(120, horizon_days=3, n_symbols=4)
    folds = PurgedWalkForward(n_splits=5).split(times)
    assert len(folds) == 5
    tested = np.concatenate([f.test for f in folds])
    assert np.unique(tested).size == tested.size
    for fold in folds:
        assert times.t1[fold.train].max() < times.t0[fold.test].min()
        assert fold.purged == 3 * 4  # the 3 days before the fold, 4 symbols each


def test_the_walk_forward_embargo_keeps_a_gap_before_each_test_block() -> None:
    times = daily(120, horizon_days=1)
    fold = PurgedWalkForward(n_splits=3, embargo=pd.Timedelta(days=5)).split(times)[0]
    gap = times.t0[fold.test].min() - times.t1[fold.train].max()
    assert gap > np.timedelta64(5, "D")
    assert fold.embargoed == 5


def test_a_rolling_walk_forward_keeps_only_the_last_training_blocks() -> None:
    times = daily(120, horizon_days=1)
    last = PurgedWalkForward(n_splits=5, max_train_groups=2).split(times)[-1]
    groups = date_groups(times, 6)
    assert set(groups[last.train]) == {3, 4}


def test_cpcv_purges_by_label_time_where_row_count_purging_leaks() -> None:
    times = daily(100, horizon_days=5, n_symbols=20)
    cv = CombinatorialPurgedCV(n_groups=5, n_test_groups=2)
    folds = cv.split(times)
    groups = date_groups(times, 5)
    row_count_leaks = 0
    for fold in folds:
        for group in fold.test_groups:
            block = np.flatnonzero(groups == group)
            assert leaking_rows(times, fold.train, block).size == 0
        # purging "horizon rows" before each block, as a row-count splitter does, leaves most
        # of the 20 symbols' overlapping labels in
        naive = _row_count_purged(fold, groups, rows=5)
        row_count_leaks += sum(
            leaking_rows(times, naive, np.flatnonzero(groups == g)).size for g in fold.test_groups
        )
    assert row_count_leaks > 0


def _row_count_purged(fold: Fold, groups: np.ndarray, rows: int) -> np.ndarray:
    train = np.flatnonzero(~np.isin(groups, fold.test_groups))
    drop: set[int] = set()
    for group in fold.test_groups:
        first = int(np.flatnonzero(groups == group).min())
        drop.update(range(first - rows, first))
    return np.array([r for r in train if r not in drop], dtype=np.int64)


def test_cpcv_embargoes_training_rows_that_start_just_after_a_test_block() -> None:
    times = daily(100, horizon_days=1)
    cv = CombinatorialPurgedCV(n_groups=5, n_test_groups=1, embargo=pd.Timedelta(days=3))
    fold = cv.split(times)[0]  # tests the first 20 days
    end = times.t1[fold.test].max()
    after = times.t0[fold.train][times.t0[fold.train] > end]
    assert after.min() > end + np.timedelta64(3, "D")
    assert fold.embargoed == 3


def test_cpcv_paths_cover_every_group_once_each() -> None:
    cv = CombinatorialPurgedCV(n_groups=6, n_test_groups=2)
    times = daily(60, horizon_days=1)
    assert len(cv.split(times)) == comb(6, 2)
    paths = cv.paths()
    assert len(paths) == cv.n_paths == comb(5, 1)
    used = set()
    for path in paths:
        assert sorted(group for _, group in path) == list(range(6))
        used.update(path)
    assert len(used) == comb(6, 2) * 2  # every (split, test group) lands in exactly one path


def test_all_symbols_of_a_date_fall_in_one_group() -> None:
    times = daily(50, horizon_days=1, n_symbols=7)
    groups = date_groups(times, 4)
    for date in np.unique(times.t0):
        assert np.unique(groups[times.t0 == date]).size == 1


def test_too_few_dates_or_a_label_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ModelError, match="3 distinct dates"):
        date_groups(daily(3, 1), 4)
    dates = pd.date_range("2020-01-01", periods=3, freq="D").to_numpy()
    with pytest.raises(ModelError, match="row 1"):
        EventTimes.of(dates, np.array([dates[0], dates[0], dates[2]]))
    with pytest.raises(ModelError, match="n_test_groups"):
        CombinatorialPurgedCV(n_groups=3, n_test_groups=3).split(daily(30, 1))
