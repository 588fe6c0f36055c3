import { NextResponse } from "next/server";
import { clearTokenCookies } from "@/lib/server/session";

/** Sign out: forget the tokens (they expire on their own at the API). */
export async function POST(): Promise<NextResponse> {
  const response = NextResponse.json({ ok: true });
  clearTokenCookies(response);
  return response;
}
