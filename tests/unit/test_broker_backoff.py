import random

from quant_brokers.base import Backoff


def test_backoff_delays_grow_to_the_cap_and_reset_after_a_healthy_link() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [min(4.0, 0.5 * 2**k) for k in range(8)]
    assert all(0.0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays[4:]) > 0.5  # later attempts wait longer than the first ceiling
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next_delay() <= 0.5
