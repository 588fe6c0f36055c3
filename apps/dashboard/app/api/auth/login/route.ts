import { NextResponse, type NextRequest } from "next/server";
import {
  apiUnreachable,
  errorBody,
  fetchFailure,
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
  let answer: { status: number; body: unknown };
  try {
    answer = await postAuth("login", { username: credentials.username, password: credentials.password });
  } catch (error) {
    return apiUnreachable(fetchFailure(error));
  }
  if (answer.status !== 200) return NextResponse.json(answer.body, { status: answer.status });
  const pair = answer.body as TokenPair;
  const response = NextResponse.json({ ok: true });
  setTokenCookies(request, response, pair);
  return response;
}
