"""Which prices float8 storage would not keep as the decimal they were quoted as (ADR 0012).

A decimal of at most 15 significant digits (DBL_DIG) survives decimal -> float8 -> shortest
decimal unchanged, so storing bars as float8 loses nothing for such prices. A float whose
shortest form needs 16 or 17 digits (a long vendor quote, or arithmetic noise such as
0.1 + 0.2) is refused at ingestion with a reason instead of being stored as something else.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MAX_DIGITS = 15
"""Significant decimal digits float8 round-trips exactly (DBL_DIG)."""

_EXACT_POWERS = 22
"""10**k is an exact double for 0 <= k <= 22, so scaling by it rounds only once."""
_LOWEST = -330
_POWERS = np.append(np.power(10.0, np.arange(_LOWEST, 309, dtype=np.float64)), np.inf)
"""10**k for every exponent a finite double can need (exact for 0 <= k <= 22; 10**309 is inf)."""


def too_many_digits(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """True where a finite, non-zero value is not the double nearest to any decimal of at most
    MAX_DIGITS significant digits (NaN, infinities and zero are left to the other checks).

    Vectorised form of `float(f"{v:.15g}") != v`: scale the value so 15 significant digits sit
    before the point, round to an integer D (exact below 2**53), scale back with one correctly
    rounded operation by an exact power of ten, and compare. If v is nearest to a 15-digit
    decimal, the scaled value lies within 0.25 of D, so D is found and the comparison holds.
    """
    magnitude = np.abs(values)
    # fast path for the usual quote: at most 6 decimals below 1e9 is at most 15 digits
    scaled = np.rint(magnitude * 1e6)
    if bool(np.all((scaled / 1e6 == magnitude) & (magnitude < 1e9))):
        return np.zeros(magnitude.shape, dtype=bool)
    usable = np.isfinite(magnitude) & (magnitude > 0)
    safe = np.where(usable, magnitude, 1.0)
    exponent = np.floor(np.log10(safe)).astype(np.int64) - _LOWEST
    exponent += safe >= _POWERS[exponent + 1]  # log10 can land one off near powers of ten
    exponent -= safe < _POWERS[exponent]
    shift = (MAX_DIGITS - 1) - (exponent + _LOWEST)  # decimal places leaving 15 digits
    scale = _POWERS[np.clip(shift, 0, _EXACT_POWERS) - _LOWEST]
    back = np.rint(safe * scale) / scale
    if (shift < 0).any():  # 1e15 and above: divide first, then multiply back
        scale = _POWERS[np.clip(-shift, 0, _EXACT_POWERS) - _LOWEST]
        back = np.where(shift < 0, np.rint(safe / scale) * scale, back)
    exact = (shift >= -_EXACT_POWERS) & (shift <= _EXACT_POWERS)
    flagged: npt.NDArray[np.bool_] = usable & exact & (back != safe)
    for position in np.flatnonzero(usable & ~exact):  # below 1e-8 or 1e37 and above: rare
        value = float(safe[position])
        flagged[position] = float(f"{value:.{MAX_DIGITS}g}") != value
    return flagged
