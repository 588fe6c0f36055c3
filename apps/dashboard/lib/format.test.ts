import { describe, expect, it } from "vitest";
import { compact, drawdown, percent, percentLabel, reportPercent, signedPercent } from "./format";

describe("figures", () => {
  it("shows a drawdown as the fall it is, whichever sign it was stored with", () => {
    expect(drawdown(0.087)).toBe("-8.70%");
    expect(drawdown(-0.087)).toBe("-8.70%");
    expect(drawdown("0.25")).toBe("-25.00%");
    expect(drawdown(0)).toBe("0.00%");
    expect(drawdown(null)).toBe("—");
  });

  it("signs returns and leaves plain percentages unsigned", () => {
    expect(signedPercent(0.1234)).toBe("+12.34%");
    expect(signedPercent(-0.08)).toBe("-8.00%");
    expect(signedPercent(0.00001)).toBe("0.00%");
    expect(percent(0.5)).toBe("50.00%");
    expect(percent(undefined)).toBe("—");
  });
});

describe("axis labels", () => {
  it("test_compact_reads_400k_and_1_2M_not_400000_00", () => {
    expect(compact(400_000)).toBe("400k");
    expect(compact(1_200_000)).toBe("1.2M");
    expect(compact(1_250_000)).toBe("1.25M");
    expect(compact(12_500)).toBe("12.5k");
    expect(compact(122_651.59)).toBe("122.7k");
    expect(compact(-3_500)).toBe("-3.5k");
    expect(compact(950)).toBe("950");
    expect(compact(1.234)).toBe("1.23");
    expect(compact(0.5)).toBe("0.5");
    expect(compact(-0.001)).toBe("0");
    expect(compact(2e9)).toBe("2B");
    expect(compact(Number.NaN)).toBe("—");
  });

  it("test_percent_labels_keep_the_unit", () => {
    expect(percentLabel(-12.5)).toBe("-12.5%");
    expect(percentLabel(0)).toBe("0%");
  });

  it("test_monthly_returns_print_as_the_html_report_does", () => {
    expect(reportPercent(-0.16912)).toBe("-16.9%");
    expect(reportPercent(0.042)).toBe("4.2%");
    expect(reportPercent(-0.0001)).toBe("-0.0%"); // Python's f"{v:.1f}%" keeps the sign too
    expect(reportPercent(null)).toBe("");
  });
});
