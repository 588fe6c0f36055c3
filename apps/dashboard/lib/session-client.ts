"use client";
/** The browser's side of the session: signing out (the cookies themselves live in lib/server/session.ts). */
import { useRouter } from "next/navigation";
import { useSWRConfig } from "swr";

/**
 * Sign out: the logout route drops the session cookies, every cached answer is forgotten (so the
 * next user signing in on this tab never sees the previous user's data, their role included), and
 * the page goes to sign-in.
 */
export function useSignOut(): () => Promise<void> {
  const router = useRouter();
  const { mutate } = useSWRConfig();
  return async () => {
    await fetch("/api/auth/logout", { method: "POST" });
    await mutate(() => true, undefined, { revalidate: false });
    router.replace("/signin");
  };
}
