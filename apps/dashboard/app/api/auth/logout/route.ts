import { NextResponse, type NextRequest } from "next/server";
import { accessToken, clearTokenCookies, noStore, postAuth, REFRESH_COOKIE } from "@/lib/server/session";

/** Sign out: the API revokes this session's refresh token (its whole sign-in, ADR 0014), then the
 * cookies go. They go even when the API cannot be reached or refuses, so this browser is signed
 * out either way; `revoked` says whether the API confirmed that the token is dead. */
export async function POST(request: NextRequest): Promise<NextResponse> {
  const revoked = await revoke(request).catch(() => false);
  const response = NextResponse.json({ ok: true, revoked });
  clearTokenCookies(response);
  return noStore(response);
}

async function revoke(request: NextRequest): Promise<boolean> {
  const refreshToken = request.cookies.get(REFRESH_COOKIE)?.value;
  if (!refreshToken) return false;
  // /v1/auth/logout wants an access token, got the way the proxy gets one
  const { token, refreshed } = await accessToken(request);
  if (!token) return false;
  // a refresh just used up the cookie's token; its successor names the same sign-in
  const body = { refresh_token: refreshed?.refresh_token ?? refreshToken };
  const answer = await postAuth(request.headers, "logout", body, token);
  return answer.status === 204;
}
