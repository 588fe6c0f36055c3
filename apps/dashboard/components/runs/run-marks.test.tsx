import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RunExports, RunMarks, RunParams } from "./run-marks";

const RUN = {
  id: "aaaaaaaa-0000-4000-8000-000000000001",
  strategy_id: "momentum_v1",
  status: "completed" as const,
  type: "backtest" as const,
  label: null,
  is_reference: false,
};

function stubPatch(status = 200, body: unknown = {}) {
  const calls: { url: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string, init?: RequestInit) => {
      calls.push({ url: input, body: JSON.parse(String(init?.body ?? "null")) });
      return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    }),
  );
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

describe("RunMarks", () => {
  it("test_run_marks_star_patches_is_reference_and_reloads_the_run", async () => {
    const calls = stubPatch();
    const onChanged = vi.fn();
    render(<RunMarks run={RUN} canEdit onChanged={onChanged} />);
    await userEvent.click(screen.getByRole("button", { name: "☆ Star as reference" }));
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(calls).toEqual([{ url: `/api/v1/runs/${RUN.id}`, body: { is_reference: true } }]);
  });

  it("test_run_marks_label_is_saved_trimmed_and_an_empty_label_removes_it", async () => {
    const calls = stubPatch();
    const onChanged = vi.fn();
    const { rerender } = render(<RunMarks run={RUN} canEdit onChanged={onChanged} />);
    await userEvent.click(screen.getByRole("button", { name: "add a label" }));
    await userEvent.type(screen.getByLabelText("run label"), "  fast 10 after fees ");
    await userEvent.click(screen.getByRole("button", { name: "Save label" }));
    await waitFor(() => expect(onChanged).toHaveBeenCalledTimes(1));
    rerender(<RunMarks run={{ ...RUN, label: "fast 10 after fees", is_reference: true }} canEdit onChanged={onChanged} />);
    expect(screen.getByTestId("run-label")).toHaveTextContent("“fast 10 after fees”");
    expect(screen.getByTestId("reference-mark")).toHaveTextContent("★ momentum_v1's reference run");
    await userEvent.click(screen.getByRole("button", { name: "edit label" }));
    await userEvent.clear(screen.getByLabelText("run label"));
    await userEvent.click(screen.getByRole("button", { name: "Save label" }));
    await waitFor(() => expect(onChanged).toHaveBeenCalledTimes(2));
    expect(calls.map((c) => c.body)).toEqual([{ label: "fast 10 after fees" }, { label: null }]);
  });

  it("test_run_marks_show_the_apis_refusal_and_viewers_get_no_controls", async () => {
    stubPatch(409, { error: { code: "conflict", message: "run x is running", field: null, request_id: "r" } });
    const { rerender } = render(<RunMarks run={RUN} canEdit onChanged={vi.fn()} />);
    await userEvent.click(screen.getByRole("button", { name: "☆ Star as reference" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not save: run x is running");
    rerender(<RunMarks run={{ ...RUN, is_reference: true, label: "house" }} canEdit={false} onChanged={vi.fn()} />);
    expect(screen.queryByRole("button")).toBeNull();
    expect(screen.getByTestId("reference-mark")).toBeInTheDocument();
    rerender(<RunMarks run={{ ...RUN, status: "running" }} canEdit onChanged={vi.fn()} />);
    expect(screen.queryByRole("button", { name: /Star/ })).toBeNull();
  });

  it("test_run_params_mark_overrides_and_exports_link_to_the_full_csv_series", () => {
    render(
      <>
        <RunParams run={{ config: { params: { fast: 10, slow: 50 } }, params_overrides: { fast: 10 } }} />
        <RunExports runId={RUN.id} />
      </>,
    );
    expect(screen.getByTestId("run-params")).toHaveTextContent("fast=10* slow=50 (* set by this run's request)");
    expect(screen.getByRole("link", { name: "Trades CSV" })).toHaveAttribute("href", `/api/v1/runs/${RUN.id}/trades.csv`);
    expect(screen.getByRole("link", { name: "Equity CSV" })).toHaveAttribute("href", `/api/v1/runs/${RUN.id}/equity.csv`);
  });
});
