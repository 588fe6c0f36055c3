const LOCAL_API = "http://127.0.0.1:8000";

/** The first of `names` that is set and not empty (`||`: a variable set to "", as compose files
 * and .env copies do, counts as unset), else the local API; without a trailing slash. */
function firstUrl(...names: string[]): string {
  const configured = names.map((name) => process.env[name]).find((value) => value);
  return (configured || LOCAL_API).replace(/\/+$/, "");
}

/** Where the dashboard's server side finds the API. Read at request time, so one build serves any
 * deployment: QUANT_API_URL (server only) wins, then NEXT_PUBLIC_API_URL, then the local default. */
export function apiBaseUrl(): string {
  return firstUrl("QUANT_API_URL", "NEXT_PUBLIC_API_URL");
}

/** The URL a browser uses to reach the API directly (only the health page does, through CORS). */
export function publicApiUrl(): string {
  return firstUrl("NEXT_PUBLIC_API_URL", "QUANT_API_URL");
}
