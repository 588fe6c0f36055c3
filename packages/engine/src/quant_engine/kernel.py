"""The compiled simulation behind the vectorised fast path (numba, float64 throughout).

It replays, step by step, what the event loop does for a position-based strategy under the
default risk_check: signals where the desired sign differs from the held sign, sizing, the gross
cap, sells before buys, fills at the close or the next open with slippage, cents commissions,
the no-margin resize rule, warm-up and liquidation, and average-cost round trips. Parity tests
hold it to the event loop's fills and equity.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# order of the float parameters packed into `settings` (see vectorised.pack_settings)
P_CASH, P_FEE, P_COMM_BPS, P_SLIP, P_COST_RATE, P_FRACTION, P_FIXED_QTY = 0, 1, 2, 3, 4, 5, 6
P_MAX_POS, P_MAX_GROSS, P_MIN_TRADE, P_MIN_STRENGTH = 7, 8, 9, 10
# order of the flags packed into `flags`
F_NEXT_OPEN, F_FIXED, F_FRACTIONAL, F_SHORT, F_MARGIN, F_LIQUIDATE, F_CENTS = 0, 1, 2, 3, 4, 5, 6


@njit(cache=True, inline="always")
def _sign(x: float) -> int:
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


@njit(cache=True, inline="always")
def _cents(x: float) -> float:
    # half-up to the cent; the 1e-7 absorbs float noise so 1.005 (stored as 1.00499...) rounds up
    return math.floor(x * 100.0 + 0.5 + 1e-7) / 100.0


@njit(cache=True, inline="always")
def _bill(x: float, cents: bool) -> float:
    # a commission as billed: in whole cents (the default), or exact (commission_rounding: none)
    return _cents(x) if cents else x


@njit(cache=True, inline="always")
def _floor_units(x: float, fractional: bool) -> float:
    if fractional:
        return math.floor(x * 1e6 + 1e-4) / 1e6
    return math.floor(x + 1e-9)


# The two kernels below are long on purpose: numba compiles each as one unit over flat arrays,
# and they mirror the event loop's fill and sizing rules step for step (parity-tested, ADR 0006).
@njit(cache=True)
def _fill(k, step, signed, ref, st, fl, pos, avg, tr, out):  # type: ignore[no-untyped-def]  # noqa: PLR0915
    """Execute `signed` units of symbol k at reference price `ref`; returns False if rejected."""
    cash = st[P_CASH]
    buy = signed > 0
    qty = abs(signed)
    price = ref * (1.0 + st[P_SLIP]) if buy else ref * (1.0 - st[P_SLIP])
    fee, bps = st[P_FEE], st[P_COMM_BPS] / 10000.0
    if (
        buy
        and not fl[F_MARGIN]
        and cash - (qty * price + _bill(fee + qty * price * bps, fl[F_CENTS])) < 0
    ):
        room = (cash - fee) / (price * (1.0 + bps))
        room = _floor_units(room, fl[F_FRACTIONAL]) if room > 0 else 0.0
        cover = -pos[k] if pos[k] < 0 else 0.0
        best = max(min(room, qty), min(cover, qty))
        unit = 1e-6 if fl[F_FRACTIONAL] else 1.0
        while (
            best > cover and cash - best * price - _bill(fee + best * price * bps, fl[F_CENTS]) < 0
        ):
            best -= unit
        qty = max(best, 0.0)
        if qty <= 0:
            return False
    commission = _bill(fee + qty * price * bps, fl[F_CENTS])
    delta = qty if buy else -qty
    old = pos[k]
    new = old + delta
    # average-cost position and realised PnL, as quant_domain.Position does it
    realized = 0.0
    if old == 0 or (old > 0) == (delta > 0):
        avg[k] = (abs(old) * avg[k] + qty * price) / abs(new)
    else:
        closed = min(qty, abs(old))
        realized = closed * (price - avg[k]) * (1.0 if old > 0 else -1.0)
        if new == 0:
            avg[k] = 0.0
        elif (new > 0) != (old > 0):
            avg[k] = price
    # round trips, as quant_engine.trade_log does it: tr[k] = [open?, gross, commission, entry step]
    n_trades = int(out[1][1])
    if old == 0:
        tr[k, 0], tr[k, 1], tr[k, 2], tr[k, 3] = 1.0, 0.0, commission, step
    elif (old > 0) == (delta > 0):
        tr[k, 2] += commission
    else:
        closing = min(qty, abs(old))
        close_fee = commission if closing == qty else _bill(commission * closing / qty, fl[F_CENTS])
        tr[k, 1] += realized
        tr[k, 2] += close_fee
        if new == 0 or (new > 0) != (old > 0):
            out[2][n_trades] = tr[k, 1] - tr[k, 2]
            out[3][n_trades] = tr[k, 3]
            out[4][n_trades] = step
            out[1][1] = n_trades + 1
            tr[k, 0] = 0.0
            if new != 0:
                tr[k, 0], tr[k, 1], tr[k, 2], tr[k, 3] = 1.0, 0.0, commission - close_fee, step
    st[P_CASH] = cash - delta * price - commission
    pos[k] = new
    n_fills = int(out[1][0])
    out[0][n_fills, 0] = step
    out[0][n_fills, 1] = k
    out[0][n_fills, 2] = delta
    out[0][n_fills, 3] = price
    out[0][n_fills, 4] = commission
    out[1][0] = n_fills + 1
    return True


@njit(cache=True)
def start(m, n, settings):  # type: ignore[no-untyped-def]
    """The kernel's state before step 0 of an m-symbol, n-step run; `advance` carries it on.

    (settings copy, positions, average prices, last closes, round trips per symbol,
    out = (fills, counters [fills, trades], trade pnls, entry steps, exit steps), equity per
    step, signals taken, working next-open orders (symbols, quantities), counts [signals
    taken, working orders]). Buffers are np.empty: pages a run never writes cost nothing.
    """
    capacity = 2 * n * m + m + 1
    out = (
        np.empty((capacity, 5)),
        np.zeros(2),
        np.empty(capacity),
        np.empty(capacity),
        np.empty(capacity),
    )
    return (
        settings.copy(),
        np.zeros(m),
        np.zeros(m),
        np.zeros(m),
        np.zeros((m, 4)),
        out,
        np.empty(n),
        # every signal taken (step, symbol, desired value): the compiled run replays these
        # through the trading loop; a sweep ignores them
        np.empty((n * m + 1, 3)),
        np.empty(m * 2, dtype=np.int64),
        np.empty(m * 2),
        np.zeros(2, dtype=np.int64),
    )


@njit(cache=True)
def advance(opens, closes, targets, trade_from, flags, state, begin, end):  # type: ignore[no-untyped-def]  # noqa: PLR0912, PLR0915
    """Simulate steps begin..end-1 (state from `start`, or from `advance` up to `begin`).

    Every quantity lives in `state` between calls, so a run advanced in chunks is the
    one-shot run bit for bit (tests/unit/engine/test_kernel_chunks.py).
    """
    m, n = closes.shape
    st, pos, avg, last, tr, out, equity, taken, pending_k, pending_q, counts = state
    fl = flags
    n_taken = counts[0]
    n_pending = counts[1]
    order_k = np.empty(m, dtype=np.int64)
    order_q = np.empty(m)
    target = np.empty(m)
    strength = np.empty(m)
    signalled = np.zeros(m, dtype=np.bool_)
    signals = np.empty(m, dtype=np.int64)
    min_strength = st[P_MIN_STRENGTH]
    liquidate = fl[F_LIQUIDATE]
    next_open = fl[F_NEXT_OPEN]
    for i in range(begin, end):
        # 1. working next-open orders fill at this step's open (in submission order)
        if n_pending:
            kept = 0
            for j in range(n_pending):
                k = pending_k[j]
                o = opens[k, i]
                if math.isnan(o):
                    pending_k[kept] = k
                    pending_q[kept] = pending_q[j]
                    kept += 1
                    continue
                _fill(k, i, pending_q[j], o, st, fl, pos, avg, tr, out)
            n_pending = kept
        # 2. take in the closes; signal where the desired sign differs from the held sign
        n_signals = 0
        trading = i >= trade_from
        # (per-step work is kept to loads and compares: flags are only written when a signal
        # occurs, and `x != x` is the one-instruction NaN test)
        for k in range(m):
            c = closes[k, i]
            if c != c:  # noqa: PLR0124
                continue
            last[k] = c
            if not trading:
                continue
            d = targets[k, i]
            if d != d or _sign(d) == _sign(pos[k]):  # noqa: PLR0124
                continue
            s_k = min(abs(d) if d != 0 else 1.0, 1.0)
            if d != 0 and s_k < min_strength:
                continue
            signals[n_signals] = k
            taken[n_taken, 0] = i
            taken[n_taken, 1] = k
            taken[n_taken, 2] = d
            n_taken += 1
            strength[k] = s_k
            target[k] = d
            n_signals += 1
        if n_signals:
            for j in range(n_signals):
                signalled[signals[j]] = True
            equity_now = st[P_CASH]
            for k in range(m):
                if pos[k] != 0:
                    equity_now += pos[k] * last[k]
            if equity_now > 0:
                # 3. sizing (quant_strategy.sizing.signals_to_orders)
                for k in range(m):
                    if not signalled[k]:
                        continue
                    sgn = _sign(target[k])
                    if sgn < 0 and not fl[F_SHORT]:
                        sgn = 0
                    price = last[k]
                    if sgn == 0 or price <= 0:
                        target[k] = 0.0
                        continue
                    if fl[F_FIXED]:
                        qty = min(st[P_FIXED_QTY], st[P_MAX_POS] * equity_now / price)
                    else:
                        frac = min(st[P_FRACTION] * strength[k], st[P_MAX_POS])
                        budget = max(frac * equity_now - st[P_FEE], 0.0)
                        qty = budget / (price * (1.0 + st[P_COST_RATE]))
                    target[k] = sgn * qty
                others = 0.0
                targeted = 0.0
                for k in range(m):
                    if signalled[k]:
                        targeted += abs(target[k]) * last[k]
                    elif pos[k] != 0:
                        others += abs(pos[k]) * last[k]
                room = st[P_MAX_GROSS] * equity_now - others
                if targeted > room and targeted > 0:
                    scale = max(room, 0.0) / targeted
                    for k in range(m):
                        if signalled[k]:
                            target[k] *= scale
                # 4. orders for the change, sells first (stable), then execute or queue
                n_orders = 0
                for side in range(2):
                    for k in range(m):
                        if not signalled[k]:
                            continue
                        current = pos[k]
                        want = target[k] if fl[F_FRACTIONAL] else float(math.trunc(target[k]))
                        delta = want - current
                        if want == 0.0 and current != 0.0:
                            qty = abs(current)
                        else:
                            if abs(delta) * last[k] < st[P_MIN_TRADE] * equity_now:
                                continue
                            qty = _floor_units(abs(delta), fl[F_FRACTIONAL])
                        if qty <= 0:
                            continue
                        is_buy = delta > 0
                        if is_buy != (side == 1):
                            continue
                        order_k[n_orders] = k
                        order_q[n_orders] = qty if is_buy else -qty
                        n_orders += 1
                for j in range(n_orders):
                    if next_open:
                        pending_k[n_pending] = order_k[j]
                        pending_q[n_pending] = order_q[j]
                        n_pending += 1
                    else:
                        _fill(
                            order_k[j],
                            i,
                            order_q[j],
                            closes[order_k[j], i],
                            st,
                            fl,
                            pos,
                            avg,
                            tr,
                            out,
                        )
            for j in range(n_signals):
                signalled[signals[j]] = False
        # 5. liquidation on the last step, at the close
        if liquidate and i == n - 1:
            for k in range(m):
                if pos[k] != 0 and not math.isnan(closes[k, i]):
                    _fill(k, i, -pos[k], closes[k, i], st, fl, pos, avg, tr, out)
        # 6. mark (flat symbols add 0 x price, which changes nothing and saves a branch)
        value = 0.0
        for k in range(m):
            value += pos[k] * last[k]
        equity[i] = st[P_CASH] + value
    counts[0] = n_taken
    counts[1] = n_pending


@njit(cache=True)
def finish(state):  # type: ignore[no-untyped-def]
    """What a run returns once `advance` has passed its last step (see `simulate`)."""
    pos, avg, last, tr, out, equity, taken, counts = (
        state[1],
        state[2],
        state[3],
        state[4],
        state[5],
        state[6],
        state[7],
        state[10],
    )
    m = pos.shape[0]
    # trades still open, valued as quant_engine.trade_log does: realised so far plus the
    # unrealised PnL of the position at the last close, less the commissions paid so far
    open_trades = np.empty((m, 3))
    n_open = 0
    for k in range(m):
        if tr[k, 0] == 1.0 and pos[k] != 0:
            open_trades[n_open, 0] = k
            open_trades[n_open, 1] = tr[k, 3]
            open_trades[n_open, 2] = tr[k, 1] + pos[k] * (last[k] - avg[k]) - tr[k, 2]
            n_open += 1
    n_fills = int(out[1][0])
    n_trades = int(out[1][1])
    return (
        equity,
        out[0][:n_fills],
        out[2][:n_trades],
        out[3][:n_trades],
        out[4][:n_trades],
        open_trades[:n_open],
        taken[: counts[0]],
    )


@njit(cache=True)
def simulate(opens, closes, targets, trade_from, settings, flags):  # type: ignore[no-untyped-def]
    """Run the default-risk_check simulation over m symbols x n steps in one call.

    Returns (equity[n], fills[f, 5] = step, symbol, signed qty, price, commission,
    trade pnls, trade entry steps, trade exit steps, open trades[o, 3] = symbol, entry step,
    net PnL marked at the last close, signals[s, 3] = step, symbol, desired value). NaN in
    closes = no bar; NaN in targets = keep what is held.
    """
    m, n = closes.shape
    state = start(m, n, settings)
    advance(opens, closes, targets, trade_from, flags, state, 0, n)
    return finish(state)
