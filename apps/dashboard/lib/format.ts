/** Number and date formatting shared by every page (the API sends figures as JSON numbers). */

export function toNumber(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

export function money(value: string | number | null | undefined, digits = 2): string {
  const n = toNumber(value);
  if (n === null) return "—";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function percent(value: string | number | null | undefined, digits = 2): string {
  const n = toNumber(value);
  if (n === null) return "—";
  return `${(n * 100).toFixed(digits)}%`;
}

/** A fraction as a percentage with its sign: "+12.34%", "-8.00%", "0.00%" (no sign once rounded to zero). */
export function signedPercent(value: string | number | null | undefined, digits = 2): string {
  const n = toNumber(value);
  if (n === null) return "—";
  const magnitude = (Math.abs(n) * 100).toFixed(digits);
  const sign = Number(magnitude) === 0 ? "" : n > 0 ? "+" : "-";
  return `${sign}${magnitude}%`;
}

/** A drawdown (stored as a positive fraction of the peak) as the fall it is: "-8.70%", the
 * same on every page. */
export function drawdown(value: string | number | null | undefined, digits = 2): string {
  const n = toNumber(value);
  return n === null ? "—" : signedPercent(-Math.abs(n), digits);
}

export function ratio(value: string | number | null | undefined, digits = 2): string {
  const n = toNumber(value);
  return n === null ? "—" : n.toFixed(digits);
}

export function dateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

const UNITS: [number, string][] = [
  [1e12, "T"],
  [1e9, "B"],
  [1e6, "M"],
  [1e3, "k"],
];

/** A number short enough for an axis: 950, 12.5k, 400k, 1.25M, 3B; small ones keep two
 * decimals at most (0.5, 1.23). */
export function compact(value: number): string {
  if (!Number.isFinite(value)) return "—";
  const size = Math.abs(value);
  for (const [unit, suffix] of UNITS) {
    if (size >= unit) return `${trimZeros((value / unit).toFixed(size / unit >= 100 ? 1 : 2))}${suffix}`;
  }
  const text = trimZeros(value.toFixed(size >= 100 ? 0 : 2));
  return text === "-0" ? "0" : text;
}

/** A figure already in percent (e.g. -12.5) as an axis label: "-12.5%". */
export function percentLabel(value: number): string {
  return Number.isFinite(value) ? `${compact(value)}%` : "—";
}

/** A fraction as the HTML report prints a monthly return: one decimal, "-16.9%". */
export function reportPercent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "" : `${(value * 100).toFixed(1)}%`;
}
