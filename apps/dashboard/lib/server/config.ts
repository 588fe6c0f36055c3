/** Where the dashboard's server side finds the API. Read at request time, so one build serves any
 * deployment: QUANT_API_URL (server only) wins, then NEXT_PUBLIC_API_URL, then the local default. */
export function apiBaseUrl(): string {
  // `||`, not `??`: a variable set to "" (as compose files and .env copies do) counts as unset
  const configured = process.env["QUANT_API_URL"] || process.env["NEXT_PUBLIC_API_URL"];
  return (configured || "http://127.0.0.1:8000").replace(/\/+$/, "");
}

/** The URL a browser uses to reach the API directly (only the health page does, through CORS). */
export function publicApiUrl(): string {
  const configured = process.env["NEXT_PUBLIC_API_URL"] || process.env["QUANT_API_URL"];
  return (configured || "http://127.0.0.1:8000").replace(/\/+$/, "");
}
