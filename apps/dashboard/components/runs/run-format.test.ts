import { describe, expect, it } from "vitest";
import { NO_METRICS } from "@/lib/test/fixtures";
import { keyMetricsText, metricTiles } from "./run-format";

const tile = (metrics: Record<string, unknown>, label: string) => metricTiles(metrics).find((t) => t.label === label);

describe("metricTiles", () => {
  it("test_metric_tiles_without_closed_trades_say_so_instead_of_a_zero_win_rate", () => {
    // buy-and-hold: nothing closed, one position held at the end
    const metrics = { num_trades: 0, win_rate: null, profit_factor: null, open_trades: 1, open_trade_pnl: 103478.28 };
    expect(tile(metrics, "Win rate")?.value).toBe("no closed trades");
    expect(tile(metrics, "Closed trades")?.value).toBe("0");
    expect(tile(metrics, "Profit factor")).toBeUndefined();
    expect(tile(metrics, "Open trades at the end")?.value).toBe("1");
    expect(tile(metrics, "Open trade PnL (unrealised)")).toEqual({
      label: "Open trade PnL (unrealised)",
      value: "103,478.28",
      tone: "good",
    });
  });

  it("test_metric_tiles_of_a_run_stored_before_open_trades_still_do_not_show_a_zero_win_rate", () => {
    expect(tile({ num_trades: 0, win_rate: 0, profit_factor: 0 }, "Win rate")?.value).toBe("no closed trades");
  });

  it("test_metric_tiles_with_closed_trades_and_none_open_show_the_statistics_alone", () => {
    const metrics = { num_trades: 58, win_rate: 0.4483, profit_factor: 1.25, open_trades: 0, open_trade_pnl: 0 };
    expect(tile(metrics, "Win rate")?.value).toBe("44.8%");
    expect(tile(metrics, "Closed trades")?.value).toBe("58");
    expect(tile(metrics, "Open trades at the end")).toBeUndefined();
    expect(tile(metrics, "Open trade PnL (unrealised)")).toBeUndefined();
  });
});

describe("keyMetricsText", () => {
  it("test_key_metrics_trades_count_closed_and_name_open_ones_apart", () => {
    expect(keyMetricsText({ ...NO_METRICS, num_trades: 0, open_trades: 1 }).trades).toBe("0 + 1 open");
    expect(keyMetricsText({ ...NO_METRICS, num_trades: 58, open_trades: 0 }).trades).toBe("58");
    expect(keyMetricsText({ ...NO_METRICS, num_trades: 12 }).trades).toBe("12");
    expect(keyMetricsText(NO_METRICS).trades).toBe("—");
  });
});
