import { describe, expect, it } from "vitest";
import { drawdown, percent, signedPercent } from "./format";

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
