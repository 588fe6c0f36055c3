import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { NO_METRICS } from "@/lib/test/fixtures";
import { KeyMetricCells } from "./key-metric-cells";

function renderCells(metrics: typeof NO_METRICS) {
  return render(
    <table>
      <tbody>
        <tr>
          <KeyMetricCells metrics={metrics} trades />
        </tr>
      </tbody>
    </table>,
  );
}

describe("KeyMetricCells", () => {
  it("test_key_metric_cells_name_a_position_held_at_the_end_as_an_open_trade", () => {
    renderCells({ ...NO_METRICS, total_return: 1.0348, num_trades: 0, open_trades: 1, open_trade_pnl: 103478.28 });
    const trades = screen.getByText("0 + 1 open");
    expect(trades).toHaveAttribute("title", expect.stringContaining("positions still held at the end"));
    expect(screen.getByText("+103.48%")).toBeInTheDocument();
  });
});
