"""How often the causal regime feature names the regime that generated each synthetic bar.

Run: .venv/bin/python bench/regime_agreement.py [--seeds 5 7 11 13] [--symbols 8] [--bars 5000]
         [--set configs/features/daily_core_v1.yaml] [--from-bar 0] [--json]
For every series of SyntheticSource(seed, symbols, bars): the feature set's `regime` code at bar
t (computed from bars <= t) against the source's true regime at bar t, over the bars where the
code is defined. Prints overall agreement, recall and precision per regime, the share of bars
with a code, agreement when the truth is read k bars earlier (a causal rule trails a switch, so
the best k says how late it is), and two references: always answering the commonest regime, and
the forward filter of the source's own Markov model with its true parameters (the best a causal
rule can do from close-to-close returns; it reads the model the source was drawn from, so it is
a ceiling, not a feature). Not a timing: no performance figure comes from this script.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import numpy.typing as npt

from quant_features import bars_panel, compute_features, load_feature_set, parse_feature_set
from quant_marketdata import SyntheticSource
from quant_marketdata.regimes import LEAVE_PROBABILITIES, REGIME_TRAITS, Regime

NAMES = ["bull", "bear", "sideways", "high_volatility"]
LAGS = (0, 1, 2, 3, 5, 10, 20)


def forward_filter(close: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The most probable regime at each bar given returns up to it, under the true model."""
    drift = np.array([REGIME_TRAITS[r].drift for r in Regime])
    vol = np.array([REGIME_TRAITS[r].volatility for r in Regime])
    stay = 1.0 - 1.0 / np.array([REGIME_TRAITS[r].mean_days for r in Regime])
    moves = np.array([LEAVE_PROBABILITIES[r] for r in Regime]) * (1.0 - stay)[:, None]
    transition = moves + np.diag(stay)
    belief = np.full(len(Regime), 1.0 / len(Regime))
    out = np.full(close.size, np.nan)
    for t, step in enumerate(np.diff(np.log(close)), start=1):
        belief = belief @ transition
        belief *= np.exp(-0.5 * ((step - drift) / vol) ** 2) / vol
        belief /= belief.sum()
        out[t] = float(np.argmax(belief))
    return out


def _share(hits: npt.NDArray[np.bool_]) -> float | None:
    """The share of True, None when there is nothing to count (a regime never answered)."""
    return round(float(hits.mean()), 4) if hits.size else None


def _percent(value: float | None) -> str:
    return "n/a (never answered)" if value is None else f"{value:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[5, 7, 11, 13])
    parser.add_argument("--symbols", type=int, default=8)
    parser.add_argument("--bars", type=int, default=5000)
    parser.add_argument("--set", default=None, help="a feature-set YAML with a regime feature")
    parser.add_argument(
        "--from-bar", type=int, default=0, help="score only bars from this one on (0: all)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    feature_set = (
        load_feature_set(args.set)
        if args.set
        else parse_feature_set("name: regime\nfeatures:\n  - kind: regime\n", "default")
    )
    truths, codes, ceilings = [], [], []
    for seed in args.seeds:
        source = SyntheticSource(seed=seed, n_symbols=args.symbols, n_bars=args.bars)
        frames = {s: source.get_bars(s) for s in source.symbols()}
        out = compute_features(feature_set, bars_panel(frames))
        for symbol, frame in frames.items():
            truth = source.regimes(symbol).map({n: k for k, n in enumerate(NAMES)}).to_numpy()
            code = out.xs(symbol, level="symbol")["regime"].to_numpy()
            ceiling = forward_filter(frame["close"].to_numpy(dtype=np.float64))
            truths.append(truth.astype(np.float64)[args.from_bar :])
            codes.append(code[args.from_bar :])
            ceilings.append(ceiling[args.from_bar :])

    def agreement(lag: int) -> float:
        hits = total = 0
        for truth, code in zip(truths, codes, strict=True):
            shifted = truth[: truth.size - lag] if lag else truth
            mine = code[lag:]
            known = ~np.isnan(mine)
            hits += int((mine[known] == shifted[known]).sum())
            total += int(known.sum())
        return hits / total

    truth = np.concatenate(truths)
    code = np.concatenate(codes)
    ceiling = np.concatenate(ceilings)
    known = ~np.isnan(code)
    t, c = truth[known], code[known]
    result = {
        "seeds": args.seeds,
        "series": len(truths),
        "bars_per_series": args.bars,
        "from_bar": args.from_bar,
        "feature_set_version": feature_set.version,
        "defined_share": round(float(known.mean()), 4),
        "agreement": round(float((c == t).mean()), 4),
        "recall": {n: round(float((c[t == k] == k).mean()), 4) for k, n in enumerate(NAMES)},
        "precision": {n: _share(t[c == k] == k) for k, n in enumerate(NAMES)},
        "true_share": {n: round(float((t == k).mean()), 4) for k, n in enumerate(NAMES)},
        "agreement_by_lag": {lag: round(agreement(lag), 4) for lag in LAGS},
        "always_commonest": round(float(np.bincount(t.astype(int)).max() / t.size), 4),
        "forward_filter_ceiling": round(float((ceiling[known] == t).mean()), 4),
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(
        f"{result['series']} series x {args.bars} bars (seeds {args.seeds}, scored from bar "
        f"{args.from_bar}), set version "
        f"{result['feature_set_version']}, code defined on {result['defined_share']:.1%} of bars"
    )
    print(f"agreement            {result['agreement']:.1%}")
    for n in NAMES:
        print(
            f"  {n:<16} recall {result['recall'][n]:.1%}  precision "
            f"{result['precision'][n]:.1%}  true share {result['true_share'][n]:.1%}"
        )
    lags = "  ".join(f"{k}: {v:.1%}" for k, v in result["agreement_by_lag"].items())
    print(f"truth read k bars earlier  {lags}")
    print(f"always the commonest regime     {result['always_commonest']:.1%}")
    print(f"forward filter, true model      {result['forward_filter_ceiling']:.1%}")


if __name__ == "__main__":
    main()
