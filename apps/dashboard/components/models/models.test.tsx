import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SWRConfig } from "swr";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ModelDetail, ModelRow } from "@/lib/api/hooks";
import { ModelView } from "./model-view";
import { ModelsTable } from "./models-table";
import { STAGE_NEEDS_ADMIN } from "./stage";

type Role = "viewer" | "trader" | "admin";
const RUN = "80dba32c-c9d2-4ea1-a4b5-06795ef152d1";

function row(id: number, stage: string, extra: Partial<ModelRow> = {}): ModelRow {
  return {
    id,
    name: "synthetic_direction",
    version: id,
    kind: "xgboost",
    stage: stage as ModelRow["stage"],
    stage_since: "2026-12-07T10:00:00Z",
    feature_set_version: "synthetic",
    scores: { oos_sharpe: 1.234, dsr: 0.971, pbo: 0.125, n_trials: 3 },
    artifact_sha256: "ab".repeat(32),
    trained_by_run_id: RUN,
    created_at: `2026-12-07T1${id}:00:00Z`,
    ...extra,
  };
}

const fold = (start: string, sharpe: number | null) => ({
  test_groups: [1],
  n_train: 1200,
  n_test: 300,
  purged: 12,
  embargoed: 4,
  start,
  end: "2021-06-30",
  sharpe,
  hit_rate: 0.5412,
});

function detail(stage: string): ModelDetail {
  return {
    ...row(7, stage),
    label_definition: { kind: "synthetic", horizon: 5 },
    train_start: "2020-01-01T00:00:00Z",
    train_end: "2022-12-30T00:00:00Z",
    data_fingerprint: "cd".repeat(32),
    params: { max_depth: 3, n_estimators: 100 },
    code_version: "0123abcd",
    trained_via: `run ${RUN}`,
    thresholds: { mode: "long_short", upper: 0.55, lower: 0.45 },
    walk_forward_folds: [fold("2021-01-04", 1.5), fold("2021-07-01", null)],
    cpcv: {
      n_groups: 4,
      n_test_groups: 2,
      summary: { paths: 3, mean: 0.9, median: 0.8, std: 0.2, p05: 0.5, share_positive: 1 },
      path_sharpes: [0.8, 0.9, 1.0],
      folds: [fold("2020-03-02", 0.7)],
    },
    candidate_sharpes: [1.234, 0.5, null],
    chosen_candidate: 0,
    rows: 15000,
    importances: [
      { feature: "f00", importance: 0.6 },
      { feature: "f01", importance: 0.3 },
      { feature: "f02", importance: 0.1 },
    ],
    stage_history: [
      { from_stage: null, to_stage: "candidate", reason: "trained", decided_by: null, decided_at: "2026-12-07T10:00:00Z", gate: {} },
    ],
  };
}

/** A fake of this app's /api/v1 proxy over the registry, deciding stages as the API does. */
function fakeApi(role: Role, { rows = [] as ModelRow[], model = detail("candidate"), refuse = "" } = {}) {
  const urls: string[] = [];
  const posts: { url: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const reply = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
      if (url === "/api/v1/auth/me") return reply({ id: 1, username: role, role, is_active: true });
      const decide = /^\/api\/v1\/models\/(\d+)\/(promote|demote)$/.exec(url);
      if (decide && init?.method === "POST") {
        posts.push({ url, body: JSON.parse(String(init.body)) });
        if (refuse) return reply({ error: { code: "conflict", message: refuse } }, 409);
        const from = model.stage;
        const to = decide[2] === "promote" ? "paper" : "candidate";
        const change = { from_stage: from, to_stage: to, reason: "r", decided_by: role, decided_at: "2026-12-07T12:00:00Z", gate: {} };
        Object.assign(model, { stage: to, stage_history: [...model.stage_history, change] });
        return reply({ id: model.id, name: model.name, version: model.version, from_stage: from, stage: to, change });
      }
      if (url.startsWith("/api/v1/models/")) return reply(model);
      if (url.startsWith("/api/v1/models")) {
        urls.push(url);
        const stage = new URL(url, "http://x").searchParams.get("stage");
        const items = rows.filter((r) => !stage || r.stage === stage);
        return reply({ items, total: items.length, page: 1, per_page: 25 });
      }
      return reply({ error: { code: "not_found", message: url } }, 404);
    }),
  );
  return { urls, posts, model };
}

function renderIn(node: React.ReactNode) {
  return render(<SWRConfig value={{ provider: () => new Map(), dedupingInterval: 0 }}>{node}</SWRConfig>);
}

afterEach(() => vi.unstubAllGlobals());

describe("ModelsTable", () => {
  it("test_models_table_lists_each_model_with_its_stage_badge_scores_and_training_run", async () => {
    fakeApi("viewer", { rows: [row(2, "paper"), row(1, "candidate", { trained_by_run_id: null })] });
    renderIn(<ModelsTable />);
    const table = await screen.findByRole("table", { name: "models" });
    const badges = within(table).getAllByTestId("stage-badge");
    expect(badges.map((b) => b.textContent)).toEqual(["paper", "candidate"]);
    expect(within(table).getByRole("link", { name: "synthetic_direction v2" })).toHaveAttribute("href", "/models/2");
    expect(within(table).getAllByText("1.23")).toHaveLength(2);
    expect(within(table).getByRole("link", { name: "run 80dba32c" })).toHaveAttribute("href", `/runs/${RUN}`);
    expect(within(table).getByText(/command line/)).toBeInTheDocument();
  });

  it("test_models_table_stage_filter_asks_the_api_and_an_empty_registry_says_how_to_train", async () => {
    const { urls } = fakeApi("viewer", { rows: [row(1, "candidate")] });
    const user = userEvent.setup();
    renderIn(<ModelsTable />);
    await screen.findByRole("table", { name: "models" });
    await user.selectOptions(screen.getByRole("combobox", { name: "Stage" }), "live");
    await waitFor(() => expect(urls).toContain("/api/v1/models?page=1&per_page=25&stage=live"));
    expect(await screen.findByText("No live models")).toBeInTheDocument();
  });
});

describe("ModelView", () => {
  it("test_model_view_shows_folds_importance_bars_lineage_and_stage_history", async () => {
    fakeApi("viewer");
    renderIn(<ModelView id={7} />);
    const folds = await screen.findByRole("table", { name: "walk-forward folds" });
    expect(within(folds).getAllByRole("row")).toHaveLength(3);
    expect(within(folds).getByText("1.50")).toBeInTheDocument();
    expect(within(folds).getByText("—")).toBeInTheDocument(); // a fold with no finite Sharpe
    expect(screen.getByRole("table", { name: "cpcv folds" })).toBeInTheDocument();
    const bars = within(screen.getByRole("list", { name: "feature importances" })).getAllByRole("meter");
    expect(bars.map((b) => b.getAttribute("aria-label"))).toEqual(["f00", "f01", "f02"]);
    expect(bars[0]).toHaveStyle({ width: "100%" });
    expect(bars[2]!.style.width).toMatch(/^16\.6/);
    expect(screen.getByTestId("artifact-sha")).toHaveTextContent("ab".repeat(32));
    expect(screen.getByText("cd".repeat(32))).toBeInTheDocument();
    const history = screen.getByRole("table", { name: "stage history" });
    expect(within(history).getByText("registered → candidate")).toBeInTheDocument();
    expect(screen.getByTestId("model-stage")).toHaveTextContent("candidate");
  });

  it("test_model_view_a_viewer_or_trader_gets_no_buttons_and_is_told_why", async () => {
    for (const role of ["viewer", "trader"] as const) {
      const { posts } = fakeApi(role);
      const { unmount } = renderIn(<ModelView id={7} />);
      expect(await screen.findByTestId("stage-denied")).toHaveTextContent(STAGE_NEEDS_ADMIN);
      expect(screen.queryByRole("button", { name: /Promote|Demote/ })).toBeNull();
      expect(posts).toEqual([]);
      unmount();
    }
  });

  it("test_model_view_an_admin_promotes_with_a_reason_and_sees_the_new_stage", async () => {
    const { posts } = fakeApi("admin");
    const user = userEvent.setup();
    renderIn(<ModelView id={7} />);
    expect(await screen.findByRole("button", { name: "Demote" })).toBeDisabled(); // a candidate is the lowest
    await user.click(screen.getByRole("button", { name: "Promote to paper" }));
    const dialogSubmit = screen.getAllByRole("button", { name: "Promote to paper" }).at(-1)!;
    expect(dialogSubmit).toBeDisabled(); // no reason yet
    await user.type(screen.getByLabelText("Reason"), "walk-forward and CPCV agree");
    await user.click(dialogSubmit);
    expect(posts).toEqual([{ url: "/api/v1/models/7/promote", body: { reason: "walk-forward and CPCV agree" } }]);
    expect(await screen.findByText(/Stage changed: candidate → paper by admin/)).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("model-stage")).toHaveTextContent("paper"));
  });

  it("test_model_view_a_gate_refusal_is_shown_with_the_failed_checks", async () => {
    const refusal = "promotion refused by the gate: synthetic_direction v7 (#7) stays candidate: dsr 0.500 < 0.95";
    fakeApi("admin", { refuse: refusal });
    const user = userEvent.setup();
    renderIn(<ModelView id={7} />);
    await user.click(await screen.findByRole("button", { name: "Promote to paper" }));
    await user.type(screen.getByLabelText("Reason"), "try");
    await user.click(screen.getAllByRole("button", { name: "Promote to paper" }).at(-1)!);
    expect(await screen.findByRole("alert")).toHaveTextContent(`The API refused: ${refusal} (HTTP 409)`);
    expect(screen.getByTestId("model-stage")).toHaveTextContent("candidate");
  });
});
