import { describe, expect, it } from "vitest";
import type { Trade } from "@/lib/api/run-hooks";
import { indicatorLines, tradeCountText } from "./run-prices";

function trade(symbol: string, exit: string | null): Trade {
  return {
    trade_id: `${symbol}-${exit}`,
    symbol,
    direction: "long",
    quantity: 10,
    entry_time: "2010-01-04T00:00:00Z",
    entry_price: 100,
    exit_time: exit,
    exit_price: exit ? 110 : null,
    gross_pnl: 100,
    commission: 1,
    pnl: 99,
    bars_held: 3,
    mfe: 12,
    mae: -2,
    given_back: -2,
    status: exit ? "closed" : "open",
    excursion_pct: { mfe: 0.12, mae: -0.02, given_back: -0.02 },
    excursion_value: { mfe: 120, mae: -20, given_back: -20 },
  };
}

describe("price chart", () => {
  it("test_trade_count_says_closed_and_open_apart_as_the_metrics_count_closed_ones", () => {
    const trades = [trade("SP500", "2010-02-01T00:00:00Z"), trade("SP500", null)];
    expect(tradeCountText(trades, 2, "SP500")).toBe("1 closed trade + 1 open position on SP500");
  });

  it("test_trade_count_names_other_symbols_and_the_marker_cap", () => {
    const trades = [trade("SP500", "2010-02-01T00:00:00Z"), trade("GOOG", "2010-03-01T00:00:00Z")];
    expect(tradeCountText(trades, 2, "SP500")).toBe("1 closed trade on SP500 (of the run's 2 on all its symbols)");
    expect(tradeCountText(trades, 7_000, "GOOG")).toBe(
      "1 closed trade on GOOG (markers for the first 2 of the run's 7,000 trades)",
    );
  });

  it("test_indicator_lines_keep_the_servers_names_and_finite_points", () => {
    const lines = indicatorLines([
      { name: "SMA 20", points: [{ ts: "2010-01-04T00:00:00Z", value: 1115.1 }] },
      { name: "SMA 50", points: [] },
    ]);
    expect(lines.map((l) => l.name)).toEqual(["SMA 20", "SMA 50"]);
    expect(lines[0]!.points).toEqual([{ time: 1262563200, value: 1115.1 }]);
    expect(lines[0]!.color).not.toBe(lines[1]!.color);
  });
});
