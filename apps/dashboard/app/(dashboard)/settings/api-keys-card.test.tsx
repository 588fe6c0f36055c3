import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiKeysCard } from "./api-keys-card";

type Role = "viewer" | "trader" | "admin";

const KEY = "qk_abcdef123456_" + "x".repeat(43);

/** A fake of this app's /api/v1 proxy holding the caller's keys. */
function fakeApi() {
  const keys: Record<string, unknown>[] = [];
  const posts: { url: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const reply = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
      if (url === "/api/v1/api-keys" && init?.method === "POST") {
        const body = JSON.parse(String(init.body)) as { name: string; role: string };
        posts.push({ url, body });
        const key = {
          id: keys.length + 1,
          name: body.name,
          prefix: "abcdef123456",
          role: body.role,
          owner: "ana",
          created_at: "2026-12-07T10:00:00Z",
          expires_at: null,
          last_used_at: null,
          revoked_at: null,
        };
        keys.push(key);
        return reply({ ...key, key: KEY }, 201);
      }
      if (url === "/api/v1/api-keys") return reply(keys);
      const revoke = /^\/api\/v1\/api-keys\/(\d+)\/revoke$/.exec(url);
      if (revoke) {
        posts.push({ url, body: null });
        const key = keys[Number(revoke[1]) - 1]!;
        key.revoked_at = "2026-12-07T11:00:00Z";
        return reply(key);
      }
      return reply({ error: { code: "not_found", message: url } }, 404);
    }),
  );
  return { keys, posts };
}

function renderCard(role: Role) {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <ApiKeysCard me={{ id: 1, username: "ana", role, is_active: true }} />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("ApiKeysCard", () => {
  it("offers no role above the user's own", async () => {
    fakeApi();
    renderCard("trader");
    const options = within(screen.getByLabelText("Role")).getAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["viewer", "trader"]);
    expect(await screen.findByText("No API keys yet.")).toBeInTheDocument();
  });

  it("shows a new key once, lists it by its prefix, and revokes it", async () => {
    const { posts } = fakeApi();
    const user = userEvent.setup();
    renderCard("trader");
    await user.type(screen.getByLabelText("Name"), "nightly");
    await user.selectOptions(screen.getByLabelText("Role"), "trader");
    await user.click(screen.getByRole("button", { name: "Create key" }));
    expect(await screen.findByTestId("new-api-key")).toHaveTextContent(KEY);
    expect(posts[0]).toEqual({ url: "/api/v1/api-keys", body: { name: "nightly", role: "trader", expires_in_days: null } });
    expect(await screen.findByText("qk_abcdef123456_…")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Revoke nightly" }));
    expect(await screen.findByText("revoked")).toBeInTheDocument();
    expect(posts[1]?.url).toBe("/api/v1/api-keys/1/revoke");
  });
});
