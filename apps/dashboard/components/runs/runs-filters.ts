/** The runs list's filters and sort order, as the URL carries them and as the API takes them. */
import type { QueryOf } from "@/lib/api/client";

type RunsQuery = QueryOf<"/v1/runs">;
export type SortKey = NonNullable<RunsQuery["sort"]>;
export type SortOrder = NonNullable<RunsQuery["order"]>;

export const RUNS_PER_PAGE = 20;

/** Every order the API sorts by, as a person names it; metrics sort best-first by default
 * (a drawdown's best is the smallest). */
export const SORTS: { key: SortKey; label: string; best: SortOrder }[] = [
  { key: "created_at", label: "Created", best: "desc" },
  { key: "finished_at", label: "Finished", best: "desc" },
  { key: "total_return", label: "Return", best: "desc" },
  { key: "annual_return", label: "CAGR", best: "desc" },
  { key: "sharpe", label: "Sharpe", best: "desc" },
  { key: "max_drawdown_pct", label: "Max drawdown", best: "asc" },
  { key: "win_rate", label: "Win rate", best: "desc" },
  { key: "num_trades", label: "Trades", best: "desc" },
];

const SORT_KEYS = new Set<string>(SORTS.map((s) => s.key));

export interface RunFilters {
  strategy: string;
  type: string;
  status: string;
  /** runs whose label contains this text, any case */
  label: string;
  /** only the strategies' reference runs */
  starred: boolean;
  sort: SortKey;
  order: SortOrder;
  page: number;
}

export const DEFAULT_SORT: Pick<RunFilters, "sort" | "order"> = { sort: "created_at", order: "desc" };

/** The filters a runs URL carries (`?strategy=&type=&status=&label=&starred=1&sort=&order=&page=`). */
export function filtersFrom(params: URLSearchParams | null): RunFilters {
  const page = Number(params?.get("page") ?? "1");
  const sort = params?.get("sort") ?? "";
  const order = params?.get("order");
  return {
    strategy: params?.get("strategy") ?? "",
    type: params?.get("type") ?? "",
    status: params?.get("status") ?? "",
    label: params?.get("label") ?? "",
    starred: params?.get("starred") === "1",
    sort: SORT_KEYS.has(sort) ? (sort as SortKey) : DEFAULT_SORT.sort,
    order: order === "asc" || order === "desc" ? order : DEFAULT_SORT.order,
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

export function filtersQueryString(filters: RunFilters): string {
  const search = new URLSearchParams();
  if (filters.strategy) search.set("strategy", filters.strategy);
  if (filters.type) search.set("type", filters.type);
  if (filters.status) search.set("status", filters.status);
  if (filters.label) search.set("label", filters.label);
  if (filters.starred) search.set("starred", "1");
  if (filters.sort !== DEFAULT_SORT.sort || filters.order !== DEFAULT_SORT.order) {
    search.set("sort", filters.sort);
    search.set("order", filters.order);
  }
  if (filters.page > 1) search.set("page", String(filters.page));
  return search.toString();
}

/** True when a filter narrows the list (the sort does not). */
export function isFiltered(filters: RunFilters): boolean {
  return Boolean(filters.strategy || filters.type || filters.status || filters.label || filters.starred);
}

/** The GET /v1/runs query of these filters. */
export function runsQuery(filters: RunFilters): RunsQuery {
  return {
    page: filters.page,
    per_page: RUNS_PER_PAGE,
    sort: filters.sort,
    order: filters.order,
    ...(filters.strategy ? { strategy: filters.strategy } : {}),
    ...(filters.type ? { type: filters.type as RunsQuery["type"] } : {}),
    ...(filters.status ? { status: filters.status as RunsQuery["status"] } : {}),
    ...(filters.label ? { label: filters.label } : {}),
    ...(filters.starred ? { is_reference: true } : {}),
  };
}

/** The order a sort starts in: best first (newest, highest, smallest drawdown). */
export function bestOrder(key: SortKey): SortOrder {
  return SORTS.find((s) => s.key === key)?.best ?? "desc";
}

/** Clicking a column's sort: its best order first, the other order on a second click. */
export function nextSort(current: Pick<RunFilters, "sort" | "order">, key: SortKey): Pick<RunFilters, "sort" | "order"> {
  const best = bestOrder(key);
  if (current.sort !== key) return { sort: key, order: best };
  return { sort: key, order: current.order === "desc" ? "asc" : "desc" };
}

export const MIN_COMPARE = 2;
export const MAX_COMPARE = 5;

/** The compare page's address for these runs. */
export function compareHref(ids: string[]): string {
  return `/runs/compare?ids=${ids.map(encodeURIComponent).join(",")}`;
}
