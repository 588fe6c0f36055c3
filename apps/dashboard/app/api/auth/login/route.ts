import { NextResponse, type NextRequest } from "next/server";
import {
  apiUnreachable,
  errorBody,
  fetchFailure,
  noStore,
  postAuth,
  setTokenCookies,
  type TokenPair,
} from "@/lib/server/session";

/** Sign in: trade the credentials for the API's tokens and keep them in httpOnly cookies. */
export async function POST(request: NextRequest): Promise<NextResponse> {
  let credentials: { username?: unknown; password?: unknown };
  try {
    credentials = (await request.json()) as typeof credentials;
  } catch {
    return NextResponse.json(errorBody("validation_error", "send a JSON body with username and password"), {
      status: 400,
    });
  }
  let answer: Awaited<ReturnType<typeof postAuth>>;
  try {
    answer = await postAuth(request.headers, "login", {
      username: credentials.username,
      password: credentials.password,
    });
  } catch (error) {
    return apiUnreachable(fetchFailure(error));
  }
  if (answer.status !== 200) {
    // the API's envelope, and its Retry-After when it is a 429 (too many failed sign-ins)
    const refused = NextResponse.json(answer.body, { status: answer.status });
    if (answer.retryAfter) refused.headers.set("retry-after", answer.retryAfter);
    return noStore(refused);
  }
  const pair = answer.body as TokenPair;
  const response = NextResponse.json({ ok: true });
  setTokenCookies(request, response, pair);
  return noStore(response);
}
