import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KillSwitchControl } from "./kill-switch";

type Role = "viewer" | "trader" | "admin";

/** A fake of this app's /api/v1 proxy: who is signed in and the kill switch's state. */
function fakeApi(role: Role, engaged = false) {
  const state = { engaged, reason: engaged ? "drill" : "", changed_by: "admin", changed_at: "2024-03-01T09:30:00Z" };
  const posts: unknown[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const reply = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    if (url === "/api/v1/auth/me") return reply({ id: 1, username: role, role, is_active: true });
    if (url === "/api/v1/controls/kill-switch" && init?.method === "POST") {
      const body = JSON.parse(String(init.body)) as { engaged: boolean; reason: string };
      posts.push(body);
      Object.assign(state, { engaged: body.engaged, reason: body.reason, changed_by: role });
      return reply(state);
    }
    if (url === "/api/v1/controls/kill-switch") return reply(state);
    return new Response(JSON.stringify({ error: { code: "not_found", message: url } }), { status: 404 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { posts, fetchMock };
}

function renderControl() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <KillSwitchControl />
    </SWRConfig>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("KillSwitchControl", () => {
  it("shows a viewer the state but no button", async () => {
    const { fetchMock } = fakeApi("viewer", true);
    renderControl();
    expect(await screen.findByText("KILL SWITCH ENGAGED")).toBeInTheDocument();
    await waitFor(() => expect(fetchMock.mock.calls.map((c) => c[0])).toContain("/api/v1/auth/me"));
    await new Promise((resolve) => setTimeout(resolve, 30)); // the role has arrived
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("shows a trader the state but no button", async () => {
    fakeApi("trader");
    renderControl();
    expect(await screen.findByText("trading armed")).toBeInTheDocument();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByRole("button", { name: "Kill switch" })).toBeNull();
  });

  it("lets an admin engage it only with a reason, and posts engaged=true with that reason", async () => {
    const { posts } = fakeApi("admin");
    const user = userEvent.setup();
    renderControl();
    await user.click(await screen.findByRole("button", { name: "Kill switch" }));
    const dialog = screen.getByRole("dialog", { name: "Engage the kill switch" });
    const submit = within(dialog).getByRole("button", { name: "Engage kill switch" });
    expect(submit).toBeDisabled();
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "   ");
    expect(submit).toBeDisabled(); // blanks are not a reason
    await user.clear(within(dialog).getByRole("textbox", { name: "Reason" }));
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "broker outage");
    expect(submit).toBeEnabled();
    await user.click(submit);
    expect(await screen.findByText("KILL SWITCH ENGAGED")).toBeInTheDocument();
    expect(posts).toEqual([{ engaged: true, reason: "broker outage" }]);
    expect(screen.getByRole("button", { name: "Re-arm" })).toBeInTheDocument();
  });

  it("lets an admin re-arm an engaged switch with a reason", async () => {
    const { posts } = fakeApi("admin", true);
    const user = userEvent.setup();
    renderControl();
    await user.click(await screen.findByRole("button", { name: "Re-arm" }));
    const dialog = screen.getByRole("dialog", { name: "Re-arm trading" });
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "broker back");
    await user.click(within(dialog).getByRole("button", { name: "Re-arm trading" }));
    expect(await screen.findByText("trading armed")).toBeInTheDocument();
    expect(posts).toEqual([{ engaged: false, reason: "broker back" }]);
  });

  it("shows the API's refusal inside the dialog", async () => {
    const { fetchMock } = fakeApi("admin");
    const base = fetchMock.getMockImplementation()!;
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) =>
      init?.method === "POST"
        ? new Response(JSON.stringify({ error: { code: "forbidden", message: "admins only", field: null } }), { status: 403 })
        : base(url, init),
    );
    const user = userEvent.setup();
    renderControl();
    await user.click(await screen.findByRole("button", { name: "Kill switch" }));
    const dialog = screen.getByRole("dialog", { name: "Engage the kill switch" });
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "drill");
    await user.click(within(dialog).getByRole("button", { name: "Engage kill switch" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("admins only");
    expect(screen.getByText("trading armed")).toBeInTheDocument();
  });
});
