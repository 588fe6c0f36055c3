/** The New backtest form's pure parts: defaults, parsing of what was typed, and error placement. */

export interface SymbolInfo {
  symbol: string;
  timeframe: string;
  first_ts: string;
  last_ts: string;
  bar_count: number;
}

export interface ParamSchema {
  type?: string;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  anyOf?: ParamSchema[];
}

/** The params of a strategy's JSON schema, in its order. */
export function schemaParams(schema: Record<string, unknown> | null | undefined): [string, ParamSchema][] {
  const properties = schema?.["properties"];
  if (!properties || typeof properties !== "object") return [];
  return Object.entries(properties as Record<string, ParamSchema>);
}

/** A param's JSON type, looking through `anyOf: [{type: X}, {type: null}]` (optional params). */
export function paramType(schema: ParamSchema): string {
  if (schema.type) return schema.type;
  const typed = schema.anyOf?.find((s) => s.type && s.type !== "null");
  return typed?.type ?? "string";
}

/** The text an input starts with for a param value. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** What was typed for a param, as the JSON value the API expects; an error names the problem. */
export function parseParam(name: string, text: string, schema: ParamSchema): { value?: unknown; error?: string } {
  const trimmed = text.trim();
  const type = paramType(schema);
  if (trimmed === "") return { error: `${name} needs a value` };
  if (type === "integer") {
    if (!/^[-+]?\d+$/.test(trimmed)) return { error: `${name} must be a whole number` };
    return { value: Number(trimmed) };
  }
  if (type === "number") {
    const n = Number(trimmed);
    if (!Number.isFinite(n)) return { error: `${name} must be a number` };
    return { value: n };
  }
  if (type === "boolean") return { value: trimmed === "true" };
  if (type === "array" || type === "object") {
    try {
      return { value: JSON.parse(trimmed) };
    } catch {
      return { error: `${name} must be JSON (e.g. [1, 2])` };
    }
  }
  return { value: trimmed };
}

function gridValue(text: string): unknown {
  const trimmed = text.trim();
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  return trimmed.replace(/^["']|["']$/g, "");
}

/** `fast = 5, 10, 20` lines as a grid; blank lines and `#` comments are skipped. */
export function parseGrid(text: string, known: string[]): { grid?: Record<string, unknown[]>; error?: string } {
  const grid: Record<string, unknown[]> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!.replace(/#.*$/, "").trim();
    if (!line) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*(.+)$/.exec(line);
    if (!match) return { error: `line ${i + 1}: write it as name = value, value, ...` };
    const [, name, values] = match as unknown as [string, string, string];
    if (known.length > 0 && !known.includes(name)) {
      return { error: `line ${i + 1}: ${name} is not a parameter of this strategy (${known.join(", ")})` };
    }
    const list = values
      .replace(/^\[|\]$/g, "")
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean)
      .map(gridValue);
    if (list.length === 0) return { error: `line ${i + 1}: ${name} has no values` };
    grid[name] = list;
  }
  if (Object.keys(grid).length === 0) return { error: "add at least one line such as fast = 5, 10, 20" };
  return { grid };
}

/** A grid as the form shows it, one `name = v1, v2` line per param. */
export function gridText(grid: unknown): string {
  if (!grid || typeof grid !== "object") return "";
  return Object.entries(grid as Record<string, unknown>)
    .map(([name, values]) => `${name} = ${Array.isArray(values) ? values.map(valueText).join(", ") : valueText(values)}`)
    .join("\n");
}

/** "SP500, nasdaq" → ["SP500", "NASDAQ"], checked against the catalogue of ingested bars. */
export function parseSymbols(
  text: string,
  catalogue: SymbolInfo[] | undefined,
  timeframe: string,
): { symbols: string[]; error?: string } {
  const symbols = [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean),
    ),
  ];
  if (symbols.length === 0) return { symbols, error: "name at least one symbol" };
  if (!catalogue) return { symbols };
  for (const symbol of symbols) {
    const entries = catalogue.filter((c) => c.symbol.toUpperCase() === symbol);
    if (entries.length === 0) {
      return { symbols, error: `${symbol} has no ingested bars (quant data ingest loads them)` };
    }
    if (!entries.some((c) => c.timeframe === timeframe)) {
      return { symbols, error: `${symbol} has only ${entries.map((c) => c.timeframe).join(", ")} bars; this strategy trades ${timeframe}` };
    }
  }
  return { symbols: symbols.map((s) => catalogue.find((c) => c.symbol.toUpperCase() === s)?.symbol ?? s) };
}

export interface AvailableRange {
  /** The first day every chosen symbol has a bar on or after (YYYY-MM-DD). */
  first: string;
  /** The last day every chosen symbol has a bar on or before; before `first` when they share none. */
  last: string;
  symbols: { symbol: string; first: string; last: string }[];
}

/** The days each chosen symbol has `timeframe` bars for in the catalogue, and the days they all
 * have; null when the catalogue has none of them (the API still checks on submission). */
export function availableRange(
  symbols: string[],
  catalogue: SymbolInfo[] | undefined,
  timeframe: string,
): AvailableRange | null {
  const spans = symbols.flatMap((symbol) => {
    const entry = (catalogue ?? []).find((c) => c.symbol === symbol && c.timeframe === timeframe);
    return entry ? [{ symbol, first: entry.first_ts.slice(0, 10), last: entry.last_ts.slice(0, 10) }] : [];
  });
  if (spans.length === 0) return null;
  return {
    first: spans.map((s) => s.first).sort().at(-1)!,
    last: spans.map((s) => s.last).sort()[0]!,
    symbols: spans,
  };
}

/** A start after some symbol's last bar, or an end before some symbol's first, worded as the API
 * words its 422 (quant_strategy.coverage), so the form refuses it before sending anything. */
export function checkDates(start: string, end: string, range: AvailableRange | null): { start?: string; end?: string } {
  if (!range) return {};
  const names = range.symbols.map((s) => s.symbol).join(", ");
  let together = "";
  if (range.symbols.length > 1) {
    together = range.first <= range.last ? `; the range all of ${names} have is ${range.first} to ${range.last}` : `; ${names} have no dates in common`;
  }
  for (const span of range.symbols) {
    const has = `${span.symbol} has bars from ${span.first} to ${span.last}${together}`;
    if (start && start > span.last) return { start: `no ${span.symbol} bars on or after ${start}: ${has}` };
    if (end && end < span.first) return { end: `no ${span.symbol} bars on or before ${end}: ${has}` };
  }
  return {};
}

/** Default dates: the strategy's own, else the span every chosen symbol has data for. */
export function defaultRange(
  symbols: string[],
  catalogue: SymbolInfo[] | undefined,
  timeframe: string,
  config: { start?: unknown; end?: unknown },
): { start: string; end: string } {
  const entries = (catalogue ?? []).filter((c) => symbols.includes(c.symbol) && c.timeframe === timeframe);
  const firsts = entries.map((c) => c.first_ts.slice(0, 10)).sort();
  const lasts = entries.map((c) => c.last_ts.slice(0, 10)).sort();
  return {
    start: typeof config.start === "string" && config.start ? config.start.slice(0, 10) : (firsts[firsts.length - 1] ?? ""),
    end: typeof config.end === "string" && config.end ? config.end.slice(0, 10) : (lasts[0] ?? ""),
  };
}

/** The form field an API error names: `body.start` → `start`, `body.universe.0` (or the old
 * `body.symbols.0`) → `symbols`, `body.params.fast` → `params.fast`,
 * `body.backtest.initial_capital` → `backtest.initial_capital`. */
export function formField(apiField: string | null | undefined): string | null {
  if (!apiField) return null;
  const field = apiField.replace(/^body\./, "");
  if (/^(symbols|universe)(\.|$)/.test(field)) return "symbols";
  if (/^walk_forward\.parameter_grid/.test(field)) return "walk_forward.parameter_grid";
  return field;
}
