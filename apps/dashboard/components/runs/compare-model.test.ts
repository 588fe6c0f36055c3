import { describe, expect, it } from "vitest";
import type { Run } from "@/lib/api/hooks";
import { compareIds, compareSections, runName } from "./compare-model";
import { growthLine } from "./compare-series";
import { dateRangeText, gridText, paramFacts } from "./run-facts";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";

function detail(id: string, extra: Partial<Run> = {}): Run {
  return {
    id,
    strategy_id: "momentum_v1",
    type: "backtest",
    status: "completed",
    progress: 1,
    processed: 1,
    total: 1,
    message: "completed",
    cancel_requested: false,
    created_by: 1,
    created_at: "2024-03-01T10:00:00Z",
    started_at: null,
    finished_at: "2024-03-01T10:01:00Z",
    label: null,
    is_reference: false,
    params_overrides: {},
    config: { params: { fast: 20, slow: 50 }, universe: ["SP500"] },
    backtest_config: { initial_capital: "100000", start: "2010-01-01", end: null, slippage_bps: "10" },
    repro: { data_source: "samples", code_version: "0123456789abcdef" },
    metrics: { total_return: 0.2, sharpe: 1.1, max_drawdown_pct: 0.1, num_trades: 7 },
    error: null,
    attempts: 1,
    ...extra,
  } as Run;
}

describe("compare model", () => {
  it("test_compare_ids_take_two_to_five_distinct_run_ids_or_say_why_not", () => {
    expect(compareIds(`${A},${B},${A}`)).toEqual({ ids: [A, B], problem: null });
    expect(compareIds(A).problem).toMatch(/at least 2 runs/);
    expect(compareIds("x,y").problem).toBe("not a run id: x, y");
    const six = Array.from({ length: 6 }, (_, i) => `${String(i).repeat(8)}-0000-4000-8000-000000000000`);
    expect(compareIds(six.join(",")).problem).toBe("at most 5 runs compare at once; 6 were given");
    expect(compareIds(null).problem).toMatch(/at least 2/);
  });

  it("test_compare_sections_mark_rows_that_differ_overrides_and_the_best_figure", () => {
    const fast = detail(B, {
      label: "fast 10",
      config: { params: { fast: 10, slow: 50 }, universe: ["SP500"] },
      params_overrides: { fast: 10 },
      backtest_config: { initial_capital: "50000", start: "2010-01-01", end: null, slippage_bps: "10" },
      metrics: { total_return: 0.3, sharpe: 0.9, max_drawdown_pct: 0.05, num_trades: 12 } as Run["metrics"],
    });
    const sections = compareSections([
      { run: detail(A), covered: { start: "2010-01-04T00:00:00Z", end: "2018-12-31T00:00:00Z" } },
      { run: fast, covered: { start: "2010-01-04T00:00:00Z", end: "2018-12-31T00:00:00Z" } },
    ]);
    const find = (section: number, label: string) => sections[section]!.rows.find((r) => r.label === label)!;
    expect(find(0, "Capital")).toMatchObject({ cells: ["100,000", "50,000"], differs: true });
    expect(find(0, "Dates asked")).toMatchObject({ cells: ["2010-01-01 → end of data", "2010-01-01 → end of data"], differs: false });
    expect(find(0, "Dates covered").cells[0]).toBe("2010-01-04 → 2018-12-31");
    expect(find(0, "Code version").cells[0]).toBe("0123456789ab");
    expect(find(1, "fast")).toMatchObject({ cells: ["20", "10 *"], differs: true });
    expect(find(1, "slow")).toMatchObject({ cells: ["50", "50"], differs: false });
    expect(find(2, "Total return")).toMatchObject({ cells: ["+20.00%", "+30.00%"], best: 1 });
    expect(find(2, "Sharpe").best).toBe(0);
    expect(find(2, "Max drawdown")).toMatchObject({ cells: ["-10.00%", "-5.00%"], best: 1 });
    expect(find(2, "Trades").best).toBeNull(); // a count is a fact, not a score
    expect(runName(fast)).toBe("bbbbbbbb · momentum_v1 · fast 10");
  });

  it("test_a_run_that_has_not_completed_shows_no_results", () => {
    const running = detail(B, { status: "running" });
    const sections = compareSections([
      { run: detail(A), covered: { start: null, end: null } },
      { run: running, covered: { start: null, end: null } },
    ]);
    const total = sections[2]!.rows.find((r) => r.label === "Total return")!;
    expect(total).toMatchObject({ cells: ["+20.00%", "—"], best: null });
    expect(sections[0]!.rows.find((r) => r.label === "Dates covered")!.cells).toEqual(["no results", "no results"]);
  });

  it("test_growth_line_divides_each_curve_by_its_own_first_value", () => {
    const line = growthLine([
      { ts: "2024-01-02T00:00:00Z", equity: 200000 },
      { ts: "2024-01-03T00:00:00Z", equity: 250000 },
    ]);
    expect(line.map((p) => p.value)).toEqual([1, 1.25]);
    expect(growthLine([{ ts: "2024-01-02T00:00:00Z", equity: 0 }])).toEqual([]);
  });

  it("test_run_facts_describe_params_grid_and_dates", () => {
    expect(paramFacts({ slow: 50, fast: 10 }, { fast: 10 })).toEqual([
      { name: "fast", value: "10", overridden: true },
      { name: "slow", value: "50", overridden: false },
    ]);
    expect(paramFacts({ fast: 10 }, null)[0]!.overridden).toBe(false);
    expect(gridText({ fast: [5, 10], slow: [50, 100, 150] })).toBe("fast ×2, slow ×3 (6 combinations)");
    expect(gridText(null)).toBeNull();
    expect(
      dateRangeText({ requested_start: null, requested_end: "2020-01-31", covered_start: null, covered_end: null }),
    ).toBe("start of data → 2020-01-31");
  });
});
