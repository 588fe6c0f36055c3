import { render, screen, within } from "@testing-library/react";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AlertCountsBadge } from "./alert-counts";

function stub(answer: () => Response) {
  const urls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      urls.push(url);
      return answer();
    }),
  );
  return urls;
}

function renderBadge() {
  return render(
    <SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0, shouldRetryOnError: false }}>
      <AlertCountsBadge />
    </SWRConfig>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("AlertCountsBadge", () => {
  it("test_alert_counts_shows_each_open_severity_linked_to_its_filter", async () => {
    const urls = stub(() => new Response(JSON.stringify({ critical: 2, warning: 0, info: 5, other: 1, total: 8 })));
    renderBadge();
    const critical = await screen.findByTestId("alert-count-critical");
    expect(critical).toHaveTextContent("2 critical");
    expect(critical).toHaveAttribute("href", "/alerts?acknowledged=open&severity=critical");
    expect(screen.getByTestId("alert-count-info")).toHaveTextContent("5 info");
    expect(screen.queryByTestId("alert-count-warning")).toBeNull(); // nothing open at that level
    expect(screen.getByTestId("alert-count-other")).toHaveTextContent("1 other");
    expect(screen.getByTestId("alert-counts")).toHaveAccessibleName("8 open alerts");
    expect(urls[0]).toBe("/api/v1/alerts/counts");
  });

  it("test_alert_counts_none_open_says_so", async () => {
    stub(() => new Response(JSON.stringify({ critical: 0, warning: 0, info: 0, other: 0, total: 0 })));
    renderBadge();
    const none = await screen.findByText("no open alerts");
    expect(none).toHaveAttribute("href", "/alerts");
  });

  it("test_alert_counts_api_failure_says_unknown_not_zero", async () => {
    stub(() => new Response(JSON.stringify({ error: { code: "unavailable", message: "database is down" } }), { status: 503 }));
    renderBadge();
    const badge = await screen.findByText("alerts: unknown");
    expect(badge).toHaveAttribute("title", "database is down");
    expect(within(screen.getByTestId("alert-counts")).queryByText(/\d/)).toBeNull();
  });
});
