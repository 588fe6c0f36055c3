import { describe, expect, it } from "vitest";
import { headlineBasisShort, headlineBasisText, headlineMetrics, headlineNote } from "./run-metrics";

describe("run-metrics", () => {
  it("test_headline_metrics_reads_stored_numbers_and_leaves_missing_ones_null", () => {
    expect(headlineMetrics({ total_return: 0.25, sharpe: "1.5", num_trades: 4, periods_per_year: 365 })).toEqual({
      totalReturn: 0.25,
      sharpe: 1.5,
      maxDrawdown: null,
      trades: 4,
      periodsPerYear: 365,
    });
    expect(headlineMetrics(null).sharpe).toBeNull();
  });

  it("test_headline_basis_says_reference_or_names_the_fallback_plainly", () => {
    expect(headlineBasisText({ basis: "reference", type: "backtest", label: "house" })).toBe("Reference run “house” (starred ★)");
    expect(headlineBasisText({ basis: "reference", type: "backtest", label: null })).toBe("Reference run (starred ★)");
    expect(headlineBasisText({ basis: "latest_completed", type: "walk_forward" })).toBe(
      "No reference run starred: the latest completed walk-forward, replaced by the next one to complete",
    );
    expect(headlineBasisShort("reference")).toBe("★ reference");
    expect(headlineBasisShort("latest_completed")).toBe("latest (no reference)");
  });

  it("test_headline_note_names_the_runs_own_capital_and_annualisation", () => {
    expect(headlineNote(250000, 365)).toBe(
      "One run's figures on its own capital of 250,000, not added to any other run; Sharpe annualised with this run's 365 periods per year.",
    );
    expect(headlineNote(null, null)).toBe("One run's figures on its own capital, not added to any other run; Sharpe as the run stored it.");
  });
});
