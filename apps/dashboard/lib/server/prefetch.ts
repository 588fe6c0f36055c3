import { cookies, headers } from "next/headers";
import { clientHeaders } from "./client-address";
import { apiBaseUrl } from "./config";
import { ACCESS_COOKIE, needsRefresh } from "./session";

/** Budget for a server-side read; past it the page renders without the data and the browser
 * fetches it as usual. */
const PREFETCH_TIMEOUT_MS = 1_500;

/**
 * GET an API path on the server with the session's access token, so a page's first HTML already
 * holds its data. Best effort: null when there is no fresh token (only the /api proxy may refresh
 * it, since it can write cookies), the API is slow or down, or it answers with an error; the
 * page's SWR hooks then fetch and report as they always do.
 */
export async function prefetch<T>(pathAndQuery: string): Promise<T | null> {
  const token = (await cookies()).get(ACCESS_COOKIE)?.value;
  if (!token || needsRefresh(token)) return null;
  try {
    const response = await fetch(`${apiBaseUrl()}${pathAndQuery}`, {
      headers: { authorization: `Bearer ${token}`, ...clientHeaders(await headers()) },
      cache: "no-store",
      signal: AbortSignal.timeout(PREFETCH_TIMEOUT_MS),
    });
    return response.ok ? ((await response.json()) as T) : null;
  } catch {
    return null;
  }
}
