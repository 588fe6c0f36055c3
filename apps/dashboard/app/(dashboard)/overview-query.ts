/** What the overview shows first. A plain module, not a client one: the server page reads these
 * values to prefetch exactly what the browser's hooks would ask for. */
export const OVERVIEW_DEFAULTS = { period: "all", mode: "BACKTEST", points: 1000 } as const;
export const OVERVIEW_ALERTS_QUERY = { per_page: 5 } as const;
