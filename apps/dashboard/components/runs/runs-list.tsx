"use client";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { EmptyState, ErrorState, LoadingRows } from "@/components/states";
import { Card } from "@/components/ui/card";
import { Input, Label, Select } from "@/components/ui/input";
import { Pager } from "@/components/ui/table";
import { useRuns, useStrategies } from "@/lib/api/hooks";
import { runTypeLabel, shortId } from "./run-format";
import {
  bestOrder,
  compareHref,
  filtersFrom,
  filtersQueryString,
  isFiltered,
  MAX_COMPARE,
  MIN_COMPARE,
  nextSort,
  type RunFilters,
  runsQuery,
  type SortKey,
  SORTS,
} from "./runs-filters";
import { RunsTable } from "./runs-table";

export { filtersFrom, filtersQueryString, RUNS_PER_PAGE } from "./runs-filters";

const TYPES = ["backtest", "walk_forward"] as const;
const STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;

/** The runs listing with its filters and sort kept in the URL, polled every 10 s (useRuns); the
 * server sorts and filters, so every page is in the same order. Runs ticked here are compared. */
export function RunsList() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const urlText = searchParams?.toString() ?? "";
  const [filters, setFilters] = useState<RunFilters>(() => filtersFrom(searchParams));
  const [seenUrl, setSeenUrl] = useState(urlText);
  const [labelText, setLabelText] = useState(filters.label);
  const [selected, setSelected] = useState<string[]>([]);
  // the URL changed (back/forward, a link, or our own replace landing): take its filters
  if (urlText !== seenUrl) {
    setSeenUrl(urlText);
    const fromUrl = filtersFrom(searchParams);
    if (filtersQueryString(fromUrl) !== filtersQueryString(filters)) {
      setFilters(fromUrl);
      setLabelText(fromUrl.label);
    }
  }

  const update = (change: Partial<RunFilters>) => {
    const next = { ...filters, page: 1, ...change };
    setFilters(next);
    const text = filtersQueryString(next);
    router.replace(text ? `${pathname}?${text}` : pathname, { scroll: false });
  };
  const applyLabel = () => {
    const text = labelText.trim();
    if (text !== filters.label) update({ label: text });
  };
  const sortBy = (key: SortKey) => update(nextSort(filters, key));
  const toggle = (id: string) =>
    setSelected((current) => (current.includes(id) ? current.filter((x) => x !== id) : [...current, id]));

  const runs = useRuns(runsQuery(filters));
  const strategies = useStrategies();

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

      <div className="flex flex-wrap items-end gap-3" role="search" aria-label="run filters">
        <div className="w-40">
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
        <div className="w-32">
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
        <div className="w-32">
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
        <form
          className="w-40"
          onSubmit={(e) => {
            e.preventDefault();
            applyLabel();
          }}
        >
          <Label htmlFor="filter-label">Label contains</Label>
          <Input
            id="filter-label"
            type="search"
            maxLength={120}
            value={labelText}
            placeholder="Enter to apply"
            onChange={(e) => setLabelText(e.target.value)}
            onBlur={applyLabel}
          />
        </form>
        <label className="flex items-center gap-1.5 pb-2 text-sm text-slate-700">
          <input type="checkbox" checked={filters.starred} onChange={(e) => update({ starred: e.target.checked })} />
          Reference only ★
        </label>
        <div className="w-32">
          <Label htmlFor="sort-key">Sort by</Label>
          <Select id="sort-key" value={filters.sort} onChange={(e) => {
              const key = e.target.value as SortKey;
              update({ sort: key, order: bestOrder(key) });
            }}>
            {SORTS.map((s) => (
              <option key={s.key} value={s.key}>
                {s.label}
              </option>
            ))}
          </Select>
        </div>
        <div className="w-32">
          <Label htmlFor="sort-order">Order</Label>
          <Select id="sort-order" value={filters.order} onChange={(e) => update({ order: e.target.value as RunFilters["order"] })}>
            <option value="desc">high → low</option>
            <option value="asc">low → high</option>
          </Select>
        </div>
      </div>

      <CompareBar selected={selected} onClear={() => setSelected([])} />

      <Card>
        {runs.error && !runs.data ? (
          <ErrorState what="runs" error={runs.error} onRetry={() => runs.mutate()} />
        ) : !runs.data ? (
          <LoadingRows rows={5} label="Loading runs" />
        ) : runs.data.total === 0 && !isFiltered(filters) ? (
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
            <RunsTable
              items={runs.data.items}
              sort={filters}
              onSort={sortBy}
              selection={{ selected: new Set(selected), onToggle: toggle }}
            />
            <p className="px-3 pt-2 text-xs text-slate-500">
              * a param the run&apos;s request set; the others are the strategy&apos;s own. Runs without a figure sort last.
            </p>
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

/** The runs ticked for comparing (kept across pages and filters) and the way to compare them. */
function CompareBar({ selected, onClear }: { selected: string[]; onClear: () => void }) {
  const count = selected.length;
  const ready = count >= MIN_COMPARE && count <= MAX_COMPARE;
  const hint =
    count < MIN_COMPARE
      ? `Tick ${MIN_COMPARE} to ${MAX_COMPARE} runs to compare them`
      : count > MAX_COMPARE
        ? `At most ${MAX_COMPARE} runs compare at once: untick ${count - MAX_COMPARE}`
        : `${count} runs ticked: ${selected.map(shortId).join(", ")}`;
  return (
    <div className="flex flex-wrap items-center gap-3 text-sm" aria-label="compare runs" role="group">
      {ready ? (
        <Link
          href={compareHref(selected)}
          className="inline-flex items-center rounded-md bg-sky-700 px-3 py-1.5 font-medium text-white hover:bg-sky-600"
        >
          Compare {count} runs
        </Link>
      ) : (
        <span aria-disabled="true" className="inline-flex cursor-not-allowed items-center rounded-md bg-slate-200 px-3 py-1.5 font-medium text-slate-500">
          Compare
        </span>
      )}
      <span className="text-xs text-slate-600">{hint}</span>
      {count > 0 ? (
        <button type="button" className="text-xs text-sky-700 underline" onClick={onClear}>
          untick all
        </button>
      ) : null}
    </div>
  );
}
