import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KillSwitchControl } from "./kill-switch";
import type { KillSwitchMode } from "./kill-switch-modes";

type Role = "viewer" | "trader" | "admin";

/** A fake of this app's /api/v1 proxy: who is signed in and the kill switch's state. */
function fakeApi(role: Role, mode: KillSwitchMode = "active") {
  const state = {
    mode,
    engaged: mode !== "active",
    reason: mode === "active" ? "" : "drill",
    changed_by: "admin",
    changed_at: "2024-03-01T09:30:00Z",
  };
  const puts: unknown[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const reply = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    if (url === "/api/v1/auth/me") return reply({ id: 1, username: role, role, is_active: true });
    if (url === "/api/v1/controls/kill-switch" && init?.method === "PUT") {
      const body = JSON.parse(String(init.body)) as { mode: KillSwitchMode; reason: string };
      puts.push(body);
      Object.assign(state, { mode: body.mode, engaged: body.mode !== "active", reason: body.reason, changed_by: role });
      return reply(state);
    }
    if (url === "/api/v1/controls/kill-switch" && (init?.method ?? "GET") === "GET") return reply(state);
    return new Response(JSON.stringify({ error: { code: "not_found", message: url } }), { status: 404 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { puts, fetchMock };
}

function renderControl() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <KillSwitchControl />
    </SWRConfig>,
  );
}

async function openDialog(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByRole("button", { name: "Kill switch" }));
  return screen.getByRole("dialog", { name: "Kill-switch mode" });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("KillSwitchControl", () => {
  it("shows a viewer the mode and that it stops no live orders yet, but no button", async () => {
    const { fetchMock } = fakeApi("viewer", "halt_entries");
    renderControl();
    expect(await screen.findByText("KILL SWITCH: HALT ENTRIES")).toBeInTheDocument();
    expect(screen.getByTestId("kill-switch-scope")).toHaveTextContent("paper sessions obey it from their next order");
    await waitFor(() => expect(fetchMock.mock.calls.map((c) => c[0])).toContain("/api/v1/auth/me"));
    await new Promise((resolve) => setTimeout(resolve, 30)); // the role has arrived
    expect(screen.queryByRole("button")).toBeNull();
  });

  it("shows a trader the mode but no button", async () => {
    fakeApi("trader");
    renderControl();
    expect(await screen.findByText("kill switch: active")).toBeInTheDocument();
    expect(screen.queryByTestId("kill-switch-scope")).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByRole("button", { name: "Kill switch" })).toBeNull();
  });

  it("offers an admin the three other modes, each with what it lets through, and says what is enforced today", async () => {
    fakeApi("admin", "reduce_only");
    const user = userEvent.setup();
    renderControl();
    const dialog = await openDialog(user);
    const radios = within(dialog).getAllByRole("radio");
    expect(radios.map((r) => (r as HTMLInputElement).value)).toEqual(["active", "halt_entries", "reduce_only", "flatten_and_halt"]);
    expect(within(dialog).getByRole("radio", { name: /reduce_only/ })).toBeDisabled();
    expect(within(dialog).getByRole("radio", { name: /halt_entries/ })).toHaveAccessibleDescription(
      "No order that opens or grows a position; orders that reduce a position and cancels pass.",
    );
    const truth = within(dialog).getByTestId("kill-switch-truth");
    expect(truth).toHaveTextContent("recorded and audited");
    expect(truth).toHaveTextContent("backtests that run with a kill-switch schedule");
    expect(truth).toHaveTextContent("Every paper session reads it before each bar");
    expect(truth).toHaveTextContent("No live broker is connected yet");
  });

  it("sets a mode only with a reason and after a confirmation, and sends the mode and reason", async () => {
    const { puts } = fakeApi("admin");
    const user = userEvent.setup();
    renderControl();
    const dialog = await openDialog(user);
    const review = within(dialog).getByRole("button", { name: "Review change" });
    expect(review).toBeDisabled();
    await user.click(within(dialog).getByRole("radio", { name: /flatten_and_halt/ }));
    expect(review).toBeDisabled(); // no reason yet
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "   ");
    expect(review).toBeDisabled(); // blanks are not a reason
    await user.clear(within(dialog).getByRole("textbox", { name: "Reason" }));
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "broker double-filled");
    await user.click(review);
    expect(puts).toEqual([]); // nothing is sent before the confirmation
    const summary = within(dialog).getByTestId("kill-switch-review");
    expect(summary).toHaveTextContent("active→toflatten_and_halt");
    expect(summary).toHaveTextContent("every position is closed");
    await user.click(within(dialog).getByRole("button", { name: "Confirm: set flatten_and_halt" }));
    expect(await screen.findByText("KILL SWITCH: FLATTEN AND HALT")).toBeInTheDocument();
    expect(puts).toEqual([{ mode: "flatten_and_halt", reason: "broker double-filled" }]);
  });

  it("goes back from the confirmation without sending, and re-arms to active", async () => {
    const { puts } = fakeApi("admin", "halt_entries");
    const user = userEvent.setup();
    renderControl();
    const dialog = await openDialog(user);
    await user.click(within(dialog).getByRole("radio", { name: /^active/ }));
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "broker back");
    await user.click(within(dialog).getByRole("button", { name: "Review change" }));
    await user.click(within(dialog).getByRole("button", { name: "Back" }));
    expect(within(dialog).getByRole("textbox", { name: "Reason" })).toHaveValue("broker back");
    expect(puts).toEqual([]);
    await user.click(within(dialog).getByRole("button", { name: "Review change" }));
    await user.click(within(dialog).getByRole("button", { name: "Confirm: set active" }));
    expect(await screen.findByText("kill switch: active")).toBeInTheDocument();
    expect(puts).toEqual([{ mode: "active", reason: "broker back" }]);
  });

  it("shows the API's refusal inside the dialog", async () => {
    const { fetchMock } = fakeApi("admin");
    const base = fetchMock.getMockImplementation()!;
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) =>
      init?.method === "PUT"
        ? new Response(JSON.stringify({ error: { code: "forbidden", message: "admins only", field: null } }), { status: 403 })
        : base(url, init),
    );
    const user = userEvent.setup();
    renderControl();
    const dialog = await openDialog(user);
    await user.click(within(dialog).getByRole("radio", { name: /halt_entries/ }));
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "drill");
    await user.click(within(dialog).getByRole("button", { name: "Review change" }));
    await user.click(within(dialog).getByRole("button", { name: "Confirm: set halt_entries" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("admins only");
    expect(screen.getByText("kill switch: active")).toBeInTheDocument();
  });
});
