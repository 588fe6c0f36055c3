import { Td } from "@/components/ui/table";
import { keyMetricsText, type RunKeyMetrics } from "./run-format";

const TRADES_TITLE = "closed round trips; open: positions still held at the end, marked at the last close";

/** Table cells for a run's headline figures, straight from its listing row (no detail read):
 * return, Sharpe, max drawdown and, with `trades`, the closed trades with any still open at the end
 * named apart ("0 + 1 open"). "—" where a figure is null. */
export function KeyMetricCells({ metrics, trades = false }: { metrics: RunKeyMetrics; trades?: boolean }) {
  const text = keyMetricsText(metrics);
  const returned = metrics.total_return;
  const returnTone = returned === null ? "" : returned >= 0 ? "text-emerald-700" : "text-red-700";
  const cell = (value: string, tone = "") => `text-right tabular ${value === "—" ? "text-slate-400" : tone}`;
  return (
    <>
      <Td className={cell(text.totalReturn, returnTone)}>{text.totalReturn}</Td>
      <Td className={cell(text.sharpe)}>{text.sharpe}</Td>
      <Td className={cell(text.maxDrawdown)}>{text.maxDrawdown}</Td>
      {trades ? (
        <Td className={cell(text.trades)} title={TRADES_TITLE}>
          {text.trades}
        </Td>
      ) : null}
    </>
  );
}
