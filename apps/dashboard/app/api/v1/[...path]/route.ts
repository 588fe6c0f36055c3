import { NextResponse, type NextRequest } from "next/server";
import { clientHeaders } from "@/lib/server/client-address";
import { apiBaseUrl } from "@/lib/server/config";
import {
  accessToken,
  apiUnreachable,
  clearTokenCookies,
  errorBody,
  fetchFailure,
  setTokenCookies,
} from "@/lib/server/session";

export const dynamic = "force-dynamic";

const FORWARDED_RESPONSE_HEADERS = [
  "content-type",
  // the API's policy for what it answers (the HTML report's sandbox among them)
  "content-security-policy",
  "x-content-type-options",
  "retry-after",
  "x-request-id",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "location",
  "content-disposition", // a CSV export's file name
];

/** The browser's only way to the API: same-origin, the token taken from the httpOnly cookie and
 * refreshed shortly before it expires. The API's answer (status, envelope, headers) passes
 * through unchanged; an API that does not answer becomes a 502 in the same envelope. */
async function forward(request: NextRequest, path: string[]): Promise<NextResponse> {
  const { token, refreshed, unavailable } = await accessToken(request);
  if (unavailable) {
    // the refresh could not be asked: an outage, not a sign-out, so the cookies stay
    return apiUnreachable(unavailable, "the token refresh");
  }
  if (!token) {
    const response = NextResponse.json(errorBody("not_signed_in", "sign in to continue"), { status: 401 });
    clearTokenCookies(response);
    return response;
  }
  const target = `${apiBaseUrl()}/v1/${path.map(encodeURIComponent).join("/")}${request.nextUrl.search}`;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  const contentType = request.headers.get("content-type");
  if (contentType) headers["content-type"] = contentType;
  const requestId = request.headers.get("x-request-id");
  if (requestId) headers["x-request-id"] = requestId;
  // the browser's address as this server can vouch for it, never its own X-Forwarded-For
  Object.assign(headers, clientHeaders(request.headers));

  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: request.method,
      headers,
      body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.text(),
      cache: "no-store",
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    return apiUnreachable(fetchFailure(error));
  }
  const response = new NextResponse(upstream.body, { status: upstream.status });
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) response.headers.set(name, value);
  }
  response.headers.set("cache-control", "no-store");
  if (refreshed) setTokenCookies(request, response, refreshed);
  return response;
}

type Context = { params: Promise<{ path: string[] }> };

export async function GET(request: NextRequest, context: Context): Promise<NextResponse> {
  return forward(request, (await context.params).path);
}

export async function POST(request: NextRequest, context: Context): Promise<NextResponse> {
  return forward(request, (await context.params).path);
}

export async function PATCH(request: NextRequest, context: Context): Promise<NextResponse> {
  return forward(request, (await context.params).path);
}

export async function PUT(request: NextRequest, context: Context): Promise<NextResponse> {
  return forward(request, (await context.params).path);
}
