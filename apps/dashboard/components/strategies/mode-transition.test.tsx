import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ModeTransition } from "./mode-transition";

function stubTransition(status: number, body: unknown) {
  const posts: unknown[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (_: string, init?: RequestInit) => {
      posts.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify(body), { status });
    }),
  );
  return posts;
}

const ANSWER = {
  strategy_id: "momentum_v1",
  previous_mode: "PAPER",
  mode: "LIVE",
  reason: "approved by the risk committee",
  changed_by: "admin",
  changed_at: "2024-03-01T09:30:00Z",
};

afterEach(() => vi.unstubAllGlobals());

describe("ModeTransition", () => {
  it("test_mode_transition_live_requires_typing_the_strategy_id", async () => {
    const posts = stubTransition(200, ANSWER);
    const onChanged = vi.fn();
    const user = userEvent.setup();
    render(<ModeTransition strategyId="momentum_v1" mode="PAPER" onChanged={onChanged} />);
    await user.click(screen.getByRole("button", { name: "LIVE" }));

    const dialog = screen.getByRole("dialog", { name: "Move momentum_v1 to LIVE" });
    const modes = within(dialog).getByTestId("transition-modes");
    expect(modes).toHaveTextContent("PAPER");
    expect(modes).toHaveTextContent("LIVE");
    expect(within(dialog).getByTestId("live-warning")).toHaveTextContent(/real orders through the broker/);
    expect(within(dialog).getByTestId("live-warning")).toHaveTextContent(/risk gate/);
    expect(within(dialog).getByTestId("live-warning")).toHaveTextContent(/kill switch/);
    expect(within(dialog).getByTestId("live-warning")).toHaveTextContent(/once the execution service .* exists/);

    const submit = within(dialog).getByRole("button", { name: "Move to LIVE" });
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "approved by the risk committee");
    expect(submit).toBeDisabled();
    const confirm = within(dialog).getByRole("textbox", { name: /to confirm/ });
    await user.type(confirm, "momentum_v");
    expect(submit).toBeDisabled();
    await user.type(confirm, "2");
    expect(submit).toBeDisabled(); // momentum_v2 is not this strategy
    await user.clear(confirm);
    await user.type(confirm, "momentum_v1");
    expect(submit).toBeEnabled();
    expect(posts).toEqual([]);

    await user.click(submit);
    expect(posts).toEqual([
      { strategy_id: "momentum_v1", mode: "LIVE", reason: "approved by the risk committee", confirm: "momentum_v1" },
    ]);
    expect(onChanged).toHaveBeenCalledWith("LIVE");
    expect(await screen.findByText(/Mode changed: PAPER → LIVE by admin/)).toBeInTheDocument();
  });

  it("test_mode_transition_paper_needs_a_reason_but_no_typed_confirmation", async () => {
    const posts = stubTransition(200, { ...ANSWER, previous_mode: "BACKTEST", mode: "PAPER" });
    const user = userEvent.setup();
    render(<ModeTransition strategyId="momentum_v1" mode="BACKTEST" onChanged={() => {}} />);
    await user.click(screen.getByRole("button", { name: "PAPER" }));
    const dialog = screen.getByRole("dialog", { name: "Move momentum_v1 to PAPER" });
    expect(within(dialog).queryByRole("textbox", { name: /to confirm/ })).toBeNull();
    expect(within(dialog).queryByTestId("live-warning")).toBeNull();
    const submit = within(dialog).getByRole("button", { name: "Move to PAPER" });
    expect(submit).toBeDisabled();
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "ready for paper");
    await user.click(submit);
    expect(posts).toEqual([{ strategy_id: "momentum_v1", mode: "PAPER", reason: "ready for paper", confirm: null }]);
  });

  it("test_mode_transition_api_refusal_is_shown_in_the_dialog", async () => {
    stubTransition(409, {
      error: { code: "conflict", message: "LIVE is only reachable from PAPER; momentum_v1 is in BACKTEST", field: null, request_id: "r" },
    });
    const onChanged = vi.fn();
    const user = userEvent.setup();
    render(<ModeTransition strategyId="momentum_v1" mode="BACKTEST" onChanged={onChanged} />);
    await user.click(screen.getByRole("button", { name: "LIVE" }));
    const dialog = screen.getByRole("dialog", { name: "Move momentum_v1 to LIVE" });
    await user.type(within(dialog).getByRole("textbox", { name: "Reason" }), "skip paper");
    await user.type(within(dialog).getByRole("textbox", { name: /to confirm/ }), "momentum_v1");
    await user.click(within(dialog).getByRole("button", { name: "Move to LIVE" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("LIVE is only reachable from PAPER");
    expect(alert).toHaveTextContent("HTTP 409");
    expect(onChanged).not.toHaveBeenCalled();
    expect(dialog).toHaveAttribute("open");
  });
});
