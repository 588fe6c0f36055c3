import { describe, expect, it } from "vitest";
import { excursionPoints, regimeStats, type ExcursionTrade } from "./run-stats";

function trade(over: Partial<ExcursionTrade>): ExcursionTrade {
  return {
    symbol: "SPY",
    entry_time: "2020-03-02T00:00:00Z",
    status: "closed",
    quantity: 10,
    entry_price: 100,
    pnl: 20,
    excursion_pct: { mfe: 0.05, mae: -0.03, given_back: -0.03 },
    ...over,
  };
}

describe("excursionPoints", () => {
  it("puts each closed trade at its MAE and its net return, in percent, winners and losers apart", () => {
    const points = excursionPoints([trade({}), trade({ symbol: "QQQ", pnl: -50, excursion_pct: { mfe: 0, mae: -0.08, given_back: 0 } })]);
    expect(points.winners).toEqual([{ x: -3, y: 2, name: "SPY 2020-03-02" }]);
    expect(points.losers).toEqual([{ x: -8, y: -5, name: "QQQ 2020-03-02" }]);
    expect(points.skipped).toBe(0);
  });

  it("leaves out open trades and trades stored before excursions were measured, and counts them", () => {
    const points = excursionPoints([
      trade({ status: "open" }),
      trade({ excursion_pct: { mfe: null, mae: null, given_back: null } }),
      trade({ quantity: 0 }),
    ]);
    expect(points.winners.length + points.losers.length).toBe(0);
    expect(points.skipped).toBe(3);
  });
});

describe("regimeStats", () => {
  it("groups closed trades by regime at entry in a fixed order, with unknown last", () => {
    const rows = regimeStats([
      { ...trade({ pnl: -10 }), regime: "bear" },
      { ...trade({ pnl: 30 }), regime: "bull" },
      { ...trade({ pnl: -10 }), regime: "bull" },
      { ...trade({ pnl: 5 }), regime: null },
      { ...trade({ status: "open" }), regime: "sideways" },
    ]);
    expect(rows.map((r) => [r.regime, r.trades])).toEqual([["bull", 2], ["bear", 1], ["unknown", 1]]);
    const bull = rows[0]!;
    expect(bull.winRate).toBe(0.5);
    expect(bull.meanReturn).toBeCloseTo(0.01);
    expect(bull.meanMae).toBeCloseTo(-0.03);
    expect(bull.pnl).toBe(20);
  });
});
