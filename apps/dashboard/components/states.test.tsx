import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api/client";
import { EmptyState, ErrorState, LoadingRows } from "./states";

describe("ErrorState", () => {
  it("says what failed, the API's message and its request id, and Retry calls back", async () => {
    const onRetry = vi.fn();
    render(
      <ErrorState
        what="runs"
        error={new ApiError(502, "api_unreachable", "the API at http://127.0.0.1:8000 did not answer", null, "req-7")}
        onRetry={onRetry}
      />,
    );
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Could not load runs.");
    expect(alert).toHaveTextContent("the API at http://127.0.0.1:8000 did not answer");
    expect(alert).toHaveTextContent("request id req-7");
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(onRetry).toHaveBeenCalledTimes(1);
  });

  it("shows a plain error without a request id, and no Retry without a callback", () => {
    render(<ErrorState what="the health report" error={new Error("boom")} />);
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Could not load the health report.");
    expect(alert).toHaveTextContent("boom");
    expect(alert).not.toHaveTextContent("request id");
    expect(screen.queryByRole("button", { name: "Retry" })).toBeNull();
  });
});

describe("LoadingRows", () => {
  it("is a labelled status with one placeholder per row", () => {
    render(<LoadingRows rows={3} label="Loading runs" />);
    const status = screen.getByRole("status", { name: "Loading runs" });
    expect(status.children).toHaveLength(3);
  });
});

describe("EmptyState", () => {
  it("says what is missing and what to do", () => {
    render(
      <EmptyState title="No runs yet">
        <span>Start a backtest from the New backtest form.</span>
      </EmptyState>,
    );
    expect(screen.getByText("No runs yet")).toBeInTheDocument();
    expect(screen.getByText("Start a backtest from the New backtest form.")).toBeInTheDocument();
  });
});
