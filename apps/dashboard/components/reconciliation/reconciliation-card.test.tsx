import { render, screen, within } from "@testing-library/react";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { NEVER_CHECKED, ReconciliationCard } from "./reconciliation-card";

function serve(body: unknown) {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 200 })));
}

function renderCard() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>
      <ReconciliationCard />
    </SWRConfig>,
  );
}

const ACCOUNT = {
  account: "paper",
  state: "clean",
  checked_at: "2026-12-07T10:00:00Z",
  run_id: "80dba32c-c9d2-4ea1-a4b5-06795ef152d1",
  differences: [],
  resolution: null,
  resolved_at: null,
  reason: "",
};

afterEach(() => vi.unstubAllGlobals());

describe("ReconciliationCard", () => {
  it("test_reconciliation_card_no_account_checked_says_no_order_may_be_sent", async () => {
    serve([]);
    renderCard();
    expect(await screen.findByText("Never checked")).toBeInTheDocument();
    expect(screen.getByText(NEVER_CHECKED)).toBeInTheDocument();
  });

  it("test_reconciliation_card_clean_account_shows_state_session_and_no_differences", async () => {
    serve([ACCOUNT]);
    renderCard();
    const account = await screen.findByTestId("reconciliation-paper");
    expect(within(account).getByTestId("reconciliation-state")).toHaveTextContent("clean");
    expect(within(account).getByText(/orders may be sent/)).toBeInTheDocument();
    expect(within(account).getByRole("link", { name: "80dba32c" })).toHaveAttribute("href", `/runs/${ACCOUNT.run_id}`);
    expect(within(account).getByText("No differences.")).toBeInTheDocument();
  });

  it("test_reconciliation_card_blocked_account_lists_each_difference", async () => {
    serve([
      {
        ...ACCOUNT,
        state: "blocked",
        differences: [{ kind: "position_mismatch", key: "SP500", broker: "long 10", ours: "flat" }],
      },
    ]);
    renderCard();
    const account = await screen.findByTestId("reconciliation-paper");
    expect(within(account).getByTestId("reconciliation-state")).toHaveTextContent("blocked");
    expect(within(account).getByText(/every order is refused until an admin/)).toBeInTheDocument();
    const table = within(account).getByRole("table", { name: "differences of paper" });
    const cells = within(table).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual(["position differs", "SP500", "long 10", "flat"]);
  });
});
