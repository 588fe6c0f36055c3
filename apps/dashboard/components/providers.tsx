"use client";
import { useRouter } from "next/navigation";
import { SWRConfig } from "swr";
import { swrDefaults } from "@/lib/api/hooks";
import type { ApiError } from "@/lib/api/client";

/** SWR defaults for every page; a 401 anywhere means the session is gone: back to sign-in. */
export function Providers({ children }: { children: React.ReactNode }) {
  const router = useRouter();
  return (
    <SWRConfig
      value={{
        ...swrDefaults,
        onError: (error: ApiError) => {
          if (error.status === 401) router.replace(`/signin?next=${encodeURIComponent(window.location.pathname)}`);
        },
        shouldRetryOnError: (error: ApiError) => error.status !== 401 && error.status !== 403 && error.status !== 404,
      }}
    >
      {children}
    </SWRConfig>
  );
}
