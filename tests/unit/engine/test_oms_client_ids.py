"""Client order ids: deterministic, short, ASCII, never handed out twice."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, timedelta
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quant_engine.oms import MAX_SEQUENCE, ClientOrderIds, client_order_id

SAFE = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
DAY = date(2024, 3, 1)

_accounts = st.text(min_size=1, max_size=80)
_strategy_ids = st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True)
_sessions = st.dates(min_value=date(1970, 1, 1), max_value=date(9999, 12, 31))
_sequences = st.integers(1, MAX_SEQUENCE)


@given(_accounts, _strategy_ids, _sessions, _sequences)
def test_client_order_id_is_ascii_safe_and_at_most_48_characters(
    account: str, strategy_id: str, session: date, sequence: int
) -> None:
    identifier = client_order_id(account, strategy_id, session, sequence)
    assert SAFE.match(identifier), identifier
    assert identifier.endswith(f"-{session:%Y%m%d}-{sequence:06d}")


@given(st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=200))
def test_client_order_id_stays_safe_for_any_text_in_account_and_strategy(
    account: str, strategy_id: str
) -> None:
    assert SAFE.match(client_order_id(account, strategy_id, DAY, 1))


def test_client_order_id_is_the_same_in_another_process_and_release() -> None:
    """No process state: a restarted process names the decision exactly as before."""
    expected = "momentum_v1-775b5ace85b1-20240301-000001"
    assert client_order_id("PA3XYZ0001", "momentum_v1", DAY, 1) == expected
    code = (
        "from datetime import date; from quant_engine.oms import client_order_id; "
        "print(client_order_id('PA3XYZ0001', 'momentum_v1', date(2024, 3, 1), 1))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == expected


def test_client_order_id_keeps_a_readable_prefix_of_the_strategy() -> None:
    assert client_order_id("acct", "mean.rev-2", DAY, 17).startswith("mean_rev-2-")
    long_id = "a_very_long_strategy_identifier_" * 2
    assert client_order_id("acct", long_id, DAY, 1).startswith("a_very_long_stra-")


def test_client_order_ids_do_not_collide_across_a_grid_of_inputs() -> None:
    accounts = ["PA1", "PA2", "PA12", "P", "A1", "paper-main", "live-main"]
    base = "strategy_with_a_long_shared_prefix"
    strategies = [
        "m",
        "mo",
        "momentum_v1",
        "momentum.v1",
        "momentum-v1",
        f"{base}_a",
        f"{base}_b",
        f"{base}.a",
        "1PA",
        "2",
    ]
    sessions = [DAY + timedelta(days=k) for k in range(5)]
    sequences = [1, 2, 10, 11, 100, 999_999, 1_000_000]
    grid = list(product(accounts, strategies, sessions, sequences))
    ids = {client_order_id(*inputs) for inputs in grid}
    assert len(ids) == len(grid)


def test_client_order_id_tells_apart_account_and_strategy_split_differently() -> None:
    assert client_order_id("ab", "c", DAY, 1) != client_order_id("a", "bc", DAY, 1)


@pytest.mark.parametrize(
    ("account", "strategy_id", "sequence", "field"),
    [
        ("", "s", 1, "account"),
        ("a", "", 1, "strategy_id"),
        ("a", "s", 0, "sequence"),
        ("a", "s", MAX_SEQUENCE + 1, "sequence"),
    ],
)
def test_client_order_id_refuses_bad_input_naming_the_field(
    account: str, strategy_id: str, sequence: int, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        client_order_id(account, strategy_id, DAY, sequence)


def test_client_order_ids_number_decisions_from_1_in_each_session() -> None:
    ids = ClientOrderIds("PA1", "momentum_v1")
    first = [ids.next_id(DAY) for _ in range(3)]
    assert first == [client_order_id("PA1", "momentum_v1", DAY, k) for k in (1, 2, 3)]
    assert (ids.session, ids.sequence) == (DAY, 3)
    nxt = DAY + timedelta(days=1)
    assert ids.next_id(nxt) == client_order_id("PA1", "momentum_v1", nxt, 1)
    assert ids.sequence == 1


@given(st.lists(st.integers(0, 3), min_size=1, max_size=60))
def test_client_order_ids_never_hand_out_an_id_twice(steps: list[int]) -> None:
    ids = ClientOrderIds("PA1", "momentum_v1")
    session = DAY
    seen: set[str] = set()
    for step in steps:
        session += timedelta(days=step)  # 0: another decision in the same session
        identifier = ids.next_id(session)
        assert identifier not in seen
        seen.add(identifier)


def test_client_order_ids_resume_after_the_last_persisted_sequence() -> None:
    before = ClientOrderIds("PA1", "momentum_v1")
    handed_out = [before.next_id(DAY) for _ in range(5)]
    after_restart = ClientOrderIds("PA1", "momentum_v1", session=DAY, last_sequence=5)
    resumed = after_restart.next_id(DAY)
    assert resumed not in handed_out
    assert resumed == client_order_id("PA1", "momentum_v1", DAY, 6)


def test_client_order_ids_refuse_an_earlier_session_whose_ids_may_be_in_use() -> None:
    ids = ClientOrderIds("PA1", "momentum_v1", session=DAY, last_sequence=2)
    with pytest.raises(ValueError, match="before"):
        ids.next_id(DAY - timedelta(days=1))
    assert ids.next_id(DAY) == client_order_id("PA1", "momentum_v1", DAY, 3)


def test_client_order_ids_refuse_a_sequence_without_its_session() -> None:
    with pytest.raises(ValueError, match="last_sequence"):
        ClientOrderIds("PA1", "momentum_v1", last_sequence=4)
    with pytest.raises(ValueError, match="last_sequence"):
        ClientOrderIds("PA1", "momentum_v1", session=DAY, last_sequence=-1)


def test_client_order_ids_stop_rather_than_wrap_past_the_last_sequence() -> None:
    ids = ClientOrderIds("PA1", "s", session=DAY, last_sequence=MAX_SEQUENCE)
    with pytest.raises(ValueError, match="sequence"):
        ids.next_id(DAY)
    assert ids.sequence == MAX_SEQUENCE
