"use client";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Badge, statusTone } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { Label, Select } from "@/components/ui/input";
import { Pager, Table, Td, Th } from "@/components/ui/table";
import type { QueryOf } from "@/lib/api/client";
import { type RunPage, useRuns, useStrategies } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import { KeyMetricCells } from "./key-metric-cells";
import { progressPercent, runTypeLabel, shortId } from "./run-format";

/** "2024-03-01 10:00" (UTC; the column says so) */
const shortTime = (iso: string) => dateTime(iso).replace(" UTC", "");

type RunsQuery = QueryOf<"/v1/runs">;
type RunRow = RunPage["items"][number];

export const RUNS_PER_PAGE = 20;
const TYPES = ["backtest", "walk_forward"] as const;
const STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;

export interface RunFilters {
  strategy: string;
  type: string;
  status: string;
  page: number;
}

/** The filters a runs URL carries (`?strategy=&type=&status=&page=`). */
export function filtersFrom(params: URLSearchParams | null): RunFilters {
  const page = Number(params?.get("page") ?? "1");
  return {
    strategy: params?.get("strategy") ?? "",
    type: params?.get("type") ?? "",
    status: params?.get("status") ?? "",
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

export function filtersQueryString(filters: RunFilters): string {
  const search = new URLSearchParams();
  if (filters.strategy) search.set("strategy", filters.strategy);
  if (filters.type) search.set("type", filters.type);
  if (filters.status) search.set("status", filters.status);
  if (filters.page > 1) search.set("page", String(filters.page));
  return search.toString();
}

/** The runs listing with its filters kept in the URL, polled every 10 s (useRuns). */
export function RunsList() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const urlText = searchParams?.toString() ?? "";
  const [filters, setFilters] = useState<RunFilters>(() => filtersFrom(searchParams));
  const [seenUrl, setSeenUrl] = useState(urlText);
  // the URL changed (back/forward, a link, or our own replace landing): take its filters
  if (urlText !== seenUrl) {
    setSeenUrl(urlText);
    const fromUrl = filtersFrom(searchParams);
    if (filtersQueryString(fromUrl) !== filtersQueryString(filters)) setFilters(fromUrl);
  }

  const update = (change: Partial<RunFilters>) => {
    const next = { ...filters, page: 1, ...change };
    setFilters(next);
    const text = filtersQueryString(next);
    router.replace(text ? `${pathname}?${text}` : pathname, { scroll: false });
  };

  const query: RunsQuery = {
    page: filters.page,
    per_page: RUNS_PER_PAGE,
    ...(filters.strategy ? { strategy: filters.strategy } : {}),
    ...(filters.type ? { type: filters.type as RunsQuery["type"] } : {}),
    ...(filters.status ? { status: filters.status as RunsQuery["status"] } : {}),
  };
  const runs = useRuns(query);
  const strategies = useStrategies();
  const filtered = Boolean(filters.strategy || filters.type || filters.status);

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-xl font-semibold">Runs</h1>
        <Link
          href="/runs/new"
          className="inline-flex items-center rounded-md bg-slate-900 px-3 py-1.5 text-sm font-medium text-white hover:bg-slate-700"
        >
          New backtest
        </Link>
      </div>

      <div className="flex flex-wrap gap-3" role="search" aria-label="run filters">
        <div className="w-52">
          <Label htmlFor="filter-strategy">Strategy filter</Label>
          <Select id="filter-strategy" value={filters.strategy} onChange={(e) => update({ strategy: e.target.value })}>
            <option value="">All strategies</option>
            {(strategies.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.id}
              </option>
            ))}
            {filters.strategy && !strategies.data?.some((s) => s.id === filters.strategy) ? (
              <option value={filters.strategy}>{filters.strategy}</option>
            ) : null}
          </Select>
        </div>
        <div className="w-40">
          <Label htmlFor="filter-type">Type filter</Label>
          <Select id="filter-type" value={filters.type} onChange={(e) => update({ type: e.target.value })}>
            <option value="">All types</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {runTypeLabel(t)}
              </option>
            ))}
          </Select>
        </div>
        <div className="w-40">
          <Label htmlFor="filter-status">Status filter</Label>
          <Select id="filter-status" value={filters.status} onChange={(e) => update({ status: e.target.value })}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </Select>
        </div>
      </div>

      <Card>
        {runs.error && !runs.data ? (
          <ErrorState what="runs" error={runs.error} onRetry={() => runs.mutate()} />
        ) : !runs.data ? (
          <LoadingRows rows={5} label="Loading runs" />
        ) : runs.data.total === 0 && !filtered ? (
          <EmptyState title="No runs yet - start a backtest">
            <Link className="text-sky-700 underline" href="/runs/new">
              Start a backtest
            </Link>{" "}
            and follow its progress here.
          </EmptyState>
        ) : runs.data.items.length === 0 ? (
          <EmptyState title="No runs match these filters">Clear a filter to see more runs.</EmptyState>
        ) : (
          <>
            <RunsTable items={runs.data.items} />
            <Pager
              page={runs.data.page}
              perPage={runs.data.per_page}
              total={runs.data.total}
              onPage={(page) => update({ page })}
            />
          </>
        )}
      </Card>
    </div>
  );
}

export function RunsTable({ items }: { items: RunRow[] }) {
  return (
    <Table aria-label="runs">
      <thead>
        <tr>
          <Th>Run</Th>
          <Th>Strategy / type</Th>
          <Th>Status</Th>
          <Th>Progress</Th>
          <Th className="whitespace-nowrap">Created / done (UTC)</Th>
          <Th className="text-right">Return</Th>
          <Th className="text-right">Sharpe</Th>
          <Th className="text-right whitespace-nowrap">Max DD</Th>
          <Th className="text-right">Trades</Th>
        </tr>
      </thead>
      <tbody>
        {items.map((run) => (
          <RunTableRow key={run.id} run={run} />
        ))}
      </tbody>
    </Table>
  );
}

function RunTableRow({ run }: { run: RunRow }) {
  const pct = progressPercent(run.progress);
  return (
    <tr className="hover:bg-slate-50">
      <Td>
        <Link href={`/runs/${run.id}`} className="font-mono text-sky-700 underline-offset-2 hover:underline" title={run.id}>
          {shortId(run.id)}
        </Link>
      </Td>
      <Td>
        <div>{run.strategy_id}</div>
        <div className="text-xs whitespace-nowrap text-slate-500">{runTypeLabel(run.type)}</div>
      </Td>
      <Td>
        <Badge tone={statusTone(run.status)}>{run.status}</Badge>
      </Td>
      <Td>
        <div className="flex items-center gap-2" title={run.message}>
          <div className="h-1.5 w-12 overflow-hidden rounded bg-slate-100">
            <div className="h-full bg-sky-500" style={{ width: `${pct}%` }} />
          </div>
          <span className="tabular text-xs text-slate-600">{pct}%</span>
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
