"use client";
import Link from "next/link";
import { Badge, statusTone } from "@/components/ui/badge";
import { Table, Td, Th } from "@/components/ui/table";
import { isActive, type RunPage } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import { KeyMetricCells } from "./key-metric-cells";
import { capitalText, dataSourceText, dateRangeKind, dateRangeText, gridText, paramFacts } from "./run-facts";
import { progressPercent, runTypeLabel, shortId } from "./run-format";
import { type RunFilters, type SortKey, SORTS } from "./runs-filters";

type RunRow = RunPage["items"][number];

/** "2024-03-01 10:00" (UTC; the column says so) */
const shortTime = (iso: string) => dateTime(iso).replace(" UTC", "");

export interface Selection {
  selected: ReadonlySet<string>;
  onToggle: (id: string) => void;
}

/** A column header that sorts the list by `sortKey` (on the server), marked while it does. */
function SortTh({
  sortKey,
  sort,
  onSort,
  className,
  children,
}: {
  sortKey: SortKey;
  sort: Pick<RunFilters, "sort" | "order">;
  onSort: (key: SortKey) => void;
  className?: string;
  children: React.ReactNode;
}) {
  const active = sort.sort === sortKey;
  const label = SORTS.find((s) => s.key === sortKey)?.label ?? sortKey;
  return (
    <Th className={className} aria-sort={active ? (sort.order === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" className="uppercase hover:text-slate-900" onClick={() => onSort(sortKey)} title={`sort by ${label.toLowerCase()}`}>
        {children}
        {active ? (sort.order === "asc" ? " ▲" : " ▼") : ""}
      </button>
    </Th>
  );
}

/** The runs, one row each: what the run ran (params with overrides marked, dates, data, capital),
 * its label and star, status and headline figures; a tick box picks it for comparing. */
export function RunsTable({
  items,
  sort,
  onSort,
  selection,
}: {
  items: RunRow[];
  sort: Pick<RunFilters, "sort" | "order">;
  onSort: (key: SortKey) => void;
  selection: Selection;
}) {
  return (
    <Table aria-label="runs">
      <thead>
        <tr>
          <Th>
            <span className="sr-only">compare</span>
          </Th>
          <Th>Run / status / strategy</Th>
          <Th>Params</Th>
          <Th>Dates / data</Th>
          <SortTh sortKey="created_at" sort={sort} onSort={onSort}>
            Created / done (UTC)
          </SortTh>
          <SortTh sortKey="total_return" sort={sort} onSort={onSort} className="text-right">
            Return
          </SortTh>
          <SortTh sortKey="sharpe" sort={sort} onSort={onSort} className="text-right">
            Sharpe
          </SortTh>
          <SortTh sortKey="max_drawdown_pct" sort={sort} onSort={onSort} className="text-right whitespace-nowrap">
            Max DD
          </SortTh>
          <SortTh sortKey="num_trades" sort={sort} onSort={onSort} className="text-right">
            Trades
          </SortTh>
        </tr>
      </thead>
      <tbody>
        {items.map((run) => (
          <RunTableRow key={run.id} run={run} selection={selection} />
        ))}
      </tbody>
    </Table>
  );
}

export function ParamsCell({ run }: { run: Pick<RunRow, "params" | "params_overrides" | "parameter_grid"> }) {
  const facts = paramFacts(run.params, run.params_overrides);
  const grid = gridText(run.parameter_grid);
  return (
    <div className="text-xs">
      {facts.length === 0 ? <span className="text-slate-400">no params</span> : null}
      <span className="font-mono">
        {facts.map((fact, index) => (
          <span key={fact.name}>
            {index > 0 ? " " : ""}
            <span
              className={fact.overridden ? "font-semibold text-amber-800" : "text-slate-700"}
              title={fact.overridden ? "set by this run's request" : "the strategy's own value"}
            >
              {fact.name}={fact.value}
              {fact.overridden ? "*" : ""}
            </span>
          </span>
        ))}
      </span>
      {grid ? <div className="text-slate-500">grid: {grid}</div> : null}
      {run.params_overrides === null ? <div className="text-slate-400">overrides not recorded</div> : null}
    </div>
  );
}

function RunTableRow({ run, selection }: { run: RunRow; selection: Selection }) {
  const pct = progressPercent(run.progress);
  const picked = selection.selected.has(run.id);
  return (
    <tr className={picked ? "bg-sky-50" : "hover:bg-slate-50"}>
      <Td>
        <input
          type="checkbox"
          aria-label={`compare run ${shortId(run.id)}`}
          checked={picked}
          onChange={() => selection.onToggle(run.id)}
        />
      </Td>
      <Td>
        <Link href={`/runs/${run.id}`} className="font-mono text-sky-700 underline-offset-2 hover:underline" title={run.id}>
          {shortId(run.id)}
        </Link>
        {run.is_reference ? (
          <span className="ml-1 text-amber-600" title={`${run.strategy_id}'s reference run: its headline`} aria-label="reference run">
            ★
          </span>
        ) : null}{" "}
        <Badge tone={statusTone(run.status)}>{run.status}</Badge>
        {isActive(run.status) ? (
          <div className="mt-1 flex items-center gap-2" title={run.message}>
            <div className="h-1.5 w-12 overflow-hidden rounded bg-slate-100">
              <div className="h-full bg-sky-500" style={{ width: `${pct}%` }} />
            </div>
            <span className="tabular text-xs text-slate-600">{pct}%</span>
          </div>
        ) : null}
        <div className="whitespace-nowrap">
          {run.strategy_id ?? "model training"} <span className="text-xs text-slate-500">{runTypeLabel(run.type)}</span>
        </div>
        {run.label ? <div className="max-w-48 text-xs break-words text-slate-700">{run.label}</div> : null}
      </Td>
      <Td>
        <ParamsCell run={run} />
      </Td>
      <Td className="text-xs text-slate-600">
        <div className="whitespace-nowrap" title={dateRangeKind(run) === "covered" ? "dates the run's results cover" : "dates asked for (not run yet)"}>
          {dateRangeText(run)}
        </div>
        <div className="text-slate-400">
          {run.symbols.join(", ") || "—"} · {dataSourceText(run.data_source)} · {capitalText(run.capital)}
        </div>
      </Td>
      <Td className="text-xs whitespace-nowrap text-slate-600">
        <div>{shortTime(run.created_at)}</div>
        {run.finished_at ? <div className="text-slate-400" title="finished">{shortTime(run.finished_at)}</div> : null}
      </Td>
      <KeyMetricCells metrics={run.key_metrics} trades />
    </tr>
  );
}
