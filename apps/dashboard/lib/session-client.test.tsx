import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig, useSWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useMe } from "./api/hooks";
import { useSignOut } from "./session-client";

const replace = vi.fn();
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace, push: vi.fn() }),
}));

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
}

/** Reads the signed-in user through the cache, and shows what the cache holds for it. */
function Probe() {
  const { data } = useMe();
  const { cache } = useSWRConfig();
  const signOut = useSignOut();
  const cached = [...cache.keys()].some((key) => cache.get(key)?.data !== undefined);
  return (
    <>
      <p>{data ? `role ${data.role}` : "no user"}</p>
      <p>{cached ? "cached" : "cache empty"}</p>
      <button onClick={signOut}>Sign out</button>
    </>
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  replace.mockReset();
});

describe("useSignOut", () => {
  it("logs out, forgets every cached answer and goes to sign-in", async () => {
    const fetchMock = vi.fn(async (url: string) =>
      url === "/api/auth/logout" ? new Response(null, { status: 204 }) : json({ username: "alice", role: "admin" }),
    );
    vi.stubGlobal("fetch", fetchMock);
    render(
      <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
        <Probe />
      </SWRConfig>,
    );
    expect(await screen.findByText("role admin")).toBeInTheDocument();
    expect(screen.getByText("cached")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));

    await waitFor(() => expect(replace).toHaveBeenCalledWith("/signin"));
    expect(fetchMock).toHaveBeenCalledWith("/api/auth/logout", { method: "POST" });
    expect(screen.getByText("no user")).toBeInTheDocument();
    expect(screen.getByText("cache empty")).toBeInTheDocument();
    // the user was not fetched again
    expect(fetchMock.mock.calls.filter(([url]) => url !== "/api/auth/logout")).toHaveLength(1);
  });
});
