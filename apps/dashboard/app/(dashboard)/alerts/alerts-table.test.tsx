import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AlertRow } from "@/lib/api/hooks";
import { AlertsTable, EMPTY_ALERTS, VIEWER_CANNOT_ACKNOWLEDGE } from "./alerts-table";

type Role = "viewer" | "trader" | "admin";
const ME_ID = 2;

function alert(id: number, extra: Partial<AlertRow> = {}): AlertRow {
  return {
    id,
    ts: `2026-12-07T1${id}:00:00Z`,
    severity: "critical",
    source: "risk",
    message: `daily loss breaker tripped (${id})`,
    strategy_id: "momentum_v1",
    run_id: "80dba32c-c9d2-4ea1-a4b5-06795ef152d1",
    acknowledged_at: null,
    acknowledged_by: null,
    ...extra,
  };
}

/** A fake of this app's /api/v1 proxy over a list of alerts, acknowledging as the API does. */
function fakeApi(role: Role, rows: AlertRow[], { conflictOn }: { conflictOn?: number } = {}) {
  const urls: string[] = [];
  const patches: string[] = [];
  const bulk: unknown[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const reply = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
      if (url === "/api/v1/auth/me") return reply({ id: ME_ID, username: role, role, is_active: true });
      const ack = /^\/api\/v1\/alerts\/(\d+)\/acknowledge$/.exec(url);
      if (ack && init?.method === "PATCH") {
        patches.push(url);
        const row = rows.find((r) => r.id === Number(ack[1]))!;
        if (row.id === conflictOn) {
          Object.assign(row, { acknowledged_at: "2026-12-07T18:00:00Z", acknowledged_by: 9 });
          return reply({ error: { code: "conflict", message: `alert ${row.id} was already acknowledged` } }, 409);
        }
        Object.assign(row, { acknowledged_at: "2026-12-07T19:30:00Z", acknowledged_by: ME_ID });
        return reply(row);
      }
      if (url === "/api/v1/alerts/acknowledge" && init?.method === "POST") {
        const { ids } = JSON.parse(String(init.body)) as { ids: number[] };
        bulk.push(ids);
        const done = ids.filter((id) => id !== conflictOn);
        for (const row of rows) {
          if (done.includes(row.id)) Object.assign(row, { acknowledged_at: "2026-12-07T19:45:00Z", acknowledged_by: ME_ID });
          if (row.id === conflictOn) Object.assign(row, { acknowledged_at: "2026-12-07T18:00:00Z", acknowledged_by: 9 });
        }
        return reply({ acknowledged: done, already: ids.filter((id) => id === conflictOn) });
      }
      if (url.startsWith("/api/v1/alerts")) {
        urls.push(url);
        return reply({ items: rows, total: rows.length, page: 1, per_page: 25 });
      }
      return reply({ error: { code: "not_found", message: url } }, 404);
    }),
  );
  return { urls, patches, bulk };
}

function renderTable(props: React.ComponentProps<typeof AlertsTable> = {}) {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <AlertsTable {...props} />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("AlertsTable", () => {
  it("test_alerts_table_no_alerts_says_so", async () => {
    const { urls } = fakeApi("admin", []);
    renderTable();
    expect(await screen.findByText(EMPTY_ALERTS)).toBeInTheDocument();
    expect(urls).toContain("/api/v1/alerts?page=1&per_page=25");
  });

  it("test_alerts_table_filters_ask_the_api_for_severity_and_acknowledgement", async () => {
    const { urls } = fakeApi("admin", [alert(1)]);
    const user = userEvent.setup();
    renderTable();
    await screen.findByRole("table", { name: "alerts" });
    await user.selectOptions(screen.getByRole("combobox", { name: "severity" }), "warning");
    await user.selectOptions(screen.getByRole("combobox", { name: "acknowledged" }), "open");
    await waitFor(() => expect(urls).toContain("/api/v1/alerts?severity=warning&acknowledged=false&page=1&per_page=25"));
    await user.selectOptions(screen.getByRole("combobox", { name: "acknowledged" }), "acknowledged");
    await waitFor(() => expect(urls).toContain("/api/v1/alerts?severity=warning&acknowledged=true&page=1&per_page=25"));
  });

  it("test_alerts_table_trader_acknowledges_one_and_sees_it_recorded", async () => {
    const { patches } = fakeApi("trader", [alert(2), alert(1)]);
    const user = userEvent.setup();
    renderTable();
    await user.click(await screen.findByRole("button", { name: "Acknowledge alert 1" }));
    expect(patches).toEqual(["/api/v1/alerts/1/acknowledge"]);
    const row = screen.getAllByTestId("alert-row").find((r) => r.dataset["alertId"] === "1")!;
    await waitFor(() => expect(row).toHaveAttribute("data-acknowledged", "true"));
    expect(row).toHaveTextContent("2026-12-07 19:30 UTC by you");
    expect(within(row).queryByRole("button")).toBeNull();
    // the other row is still open and still offers its button
    expect(screen.getByRole("button", { name: "Acknowledge alert 2" })).toBeEnabled();
    expect(screen.queryByTestId("acknowledge-denied")).toBeNull();
  });

  it("test_alerts_table_someone_else_first_shows_the_conflict_and_who", async () => {
    fakeApi("admin", [alert(3)], { conflictOn: 3 });
    const user = userEvent.setup();
    renderTable();
    await user.click(await screen.findByRole("button", { name: "Acknowledge alert 3" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("alert 3 was already acknowledged");
    await waitFor(() => expect(screen.getByTestId("alert-row")).toHaveTextContent("by user #9"));
  });

  it("test_alerts_table_viewer_gets_no_button_and_is_told_why", async () => {
    const { patches } = fakeApi("viewer", [alert(4), alert(5, { acknowledged_at: "2026-12-07T12:00:00Z", acknowledged_by: 1 })]);
    renderTable();
    expect(await screen.findByTestId("acknowledge-denied")).toHaveTextContent(VIEWER_CANNOT_ACKNOWLEDGE);
    const table = screen.getByRole("table", { name: "alerts" });
    expect(within(table).queryAllByRole("button")).toEqual([]);
    expect(within(table).getByText("open")).toBeInTheDocument();
    expect(within(table).getByText(/by user #1/)).toBeInTheDocument();
    expect(patches).toEqual([]);
  });

  it("test_alerts_table_api_failure_shows_the_error_and_retries", async () => {
    let calls = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        if (url === "/api/v1/auth/me") return new Response(JSON.stringify({ id: 1, username: "a", role: "admin", is_active: true }));
        calls += 1;
        if (calls === 1) return new Response(JSON.stringify({ error: { code: "unavailable", message: "database is down" } }), { status: 422 });
        return new Response(JSON.stringify({ items: [alert(6)], total: 1, page: 1, per_page: 25 }));
      }),
    );
    const user = userEvent.setup();
    renderTable();
    const failure = await screen.findByRole("alert");
    expect(failure).toHaveTextContent("Could not load alerts.");
    expect(failure).toHaveTextContent("database is down");
    await user.click(within(failure).getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("table", { name: "alerts" })).toHaveTextContent("daily loss breaker tripped (6)");
  });

  it("test_alerts_table_selected_open_alerts_are_acknowledged_at_once", async () => {
    const done = alert(7, { acknowledged_at: "2026-12-07T12:00:00Z", acknowledged_by: 1 });
    const { bulk, patches } = fakeApi("trader", [alert(9), alert(8), done], { conflictOn: 8 });
    const user = userEvent.setup();
    renderTable();
    const button = await screen.findByRole("button", { name: "Acknowledge selected (0)" });
    expect(button).toBeDisabled();
    // an acknowledged alert has no box to tick
    expect(screen.queryByRole("checkbox", { name: "select alert 7" })).toBeNull();
    await user.click(screen.getByRole("checkbox", { name: "select every open alert on this page" }));
    expect(screen.getByRole("checkbox", { name: "select alert 9" })).toBeChecked();
    expect(screen.getByRole("checkbox", { name: "select alert 8" })).toBeChecked();
    await user.click(screen.getByRole("button", { name: "Acknowledge selected (2)" }));
    expect(bulk).toEqual([[9, 8]]);
    expect(patches).toEqual([]);
    expect(await screen.findByTestId("acknowledge-outcome")).toHaveTextContent(
      "Acknowledged 1; 1 had been acknowledged already by someone else.",
    );
    await waitFor(() => expect(screen.getAllByTestId("alert-row").every((r) => r.dataset["acknowledged"] === "true")).toBe(true));
    expect(screen.getByRole("button", { name: "Acknowledge selected (0)" })).toBeDisabled();
  });

  it("test_alerts_table_one_box_selects_only_that_alert", async () => {
    const { bulk } = fakeApi("admin", [alert(2), alert(1)]);
    const user = userEvent.setup();
    renderTable();
    await user.click(await screen.findByRole("checkbox", { name: "select alert 1" }));
    expect(screen.getByRole("checkbox", { name: "select every open alert on this page" })).not.toBeChecked();
    await user.click(screen.getByRole("button", { name: "Acknowledge selected (1)" }));
    expect(bulk).toEqual([[1]]);
  });

  it("test_alerts_table_shows_an_alerts_title_and_the_figures_behind_it", async () => {
    fakeApi("viewer", [alert(5, { title: "Drawdown kill switch", context: { drawdown: 0.1089, limit: 0.1, rule: "drawdown" } })]);
    renderTable();
    const row = await screen.findByTestId("alert-row");
    expect(within(row).getByText("Drawdown kill switch")).toBeInTheDocument();
    expect(within(row).getByTestId("alert-context")).toHaveTextContent("drawdown=0.1089 limit=0.1 rule=drawdown");
  });

  it("test_alerts_table_viewer_has_no_boxes", async () => {
    fakeApi("viewer", [alert(4)]);
    renderTable();
    await screen.findByTestId("acknowledge-denied");
    expect(screen.queryAllByRole("checkbox")).toEqual([]);
    expect(screen.queryByRole("button", { name: /Acknowledge selected/ })).toBeNull();
  });

  it("test_alerts_table_starts_from_the_filters_it_was_linked_with", async () => {
    const { urls } = fakeApi("admin", [alert(1)]);
    renderTable({ initialSeverity: "critical", initialAcknowledged: "open" });
    await screen.findByRole("table", { name: "alerts" });
    expect(urls).toContain("/api/v1/alerts?severity=critical&acknowledged=false&page=1&per_page=25");
    expect(screen.getByRole("combobox", { name: "severity" })).toHaveValue("critical");
  });
});
