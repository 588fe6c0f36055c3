import type { Metadata } from "next";
import { cookies } from "next/headers";
import { apiBaseUrl, publicApiUrl } from "@/lib/server/config";
import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_MARGIN_SECONDS, tokenExpiry } from "@/lib/server/session";
import { SettingsView } from "./settings-view";

export const metadata: Metadata = { title: "Settings" };
export const dynamic = "force-dynamic";

function expiryIso(token: string | undefined): string | null {
  const exp = token ? tokenExpiry(token) : null;
  return exp === null ? null : new Date(exp * 1000).toISOString();
}

/** Reads the session's token expiries on the server (the cookies are httpOnly: page scripts
 * never see them) and the API URLs this deployment uses. */
export default async function SettingsPage() {
  const jar = await cookies();
  return (
    <SettingsView
      serverApiUrl={apiBaseUrl()}
      browserApiUrl={publicApiUrl()}
      accessExpires={expiryIso(jar.get(ACCESS_COOKIE)?.value)}
      refreshExpires={expiryIso(jar.get(REFRESH_COOKIE)?.value)}
      refreshMarginSeconds={REFRESH_MARGIN_SECONDS}
    />
  );
}
