import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Strategy } from "@/lib/api/hooks";
import { ConfigEditor, ConfigView } from "./config-editor";

/** momentum_v1 as GET /v1/strategies/{id} answers it, params schema included. */
const STRATEGY: Strategy = {
  id: "momentum_v1",
  class_path: "quant_strategy.builtin.momentum:SmaCrossover",
  description: "SMA crossover (20/50)",
  status: "active",
  mode: "BACKTEST",
  universe: ["SP500"],
  timeframe: "1d",
  benchmark: "SP500",
  updated_at: "2024-03-01T09:30:00Z",
  is_benchmark: false,
  headline_run: null,
  config: {
    params: { fast: 20, slow: 50 },
    risk: { max_position_pct: 1.0, max_gross_exposure: 1.0, allow_short: false, max_positions: null, min_trade_pct: 0 },
  },
  params_schema: {
    additionalProperties: false,
    properties: {
      fast: { default: 20, description: "fast SMA period (bars)", maximum: 1000, minimum: 1, title: "Fast", type: "integer" },
      slow: { default: 50, description: "slow SMA period (bars)", maximum: 5000, minimum: 2, title: "Slow", type: "integer" },
    },
    title: "SmaCrossoverParams",
    type: "object",
  },
};

function stubPatch(status: number, body: unknown) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify(body), { status });
    }),
  );
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

describe("ConfigEditor", () => {
  it("test_config_editor_params_schema_renders_typed_number_inputs_with_stored_values", () => {
    render(<ConfigEditor strategy={STRATEGY} onSaved={() => {}} />);
    const fast = screen.getByRole("spinbutton", { name: "fast" });
    expect(fast).toHaveValue(20);
    expect(fast).toHaveAttribute("min", "1");
    expect(fast).toHaveAttribute("max", "1000");
    expect(screen.getByRole("spinbutton", { name: "slow" })).toHaveValue(50);
    expect(screen.getByRole("checkbox", { name: "allow_short" })).not.toBeChecked();
    expect(screen.getByRole("combobox", { name: "status" })).toHaveValue("active");
    expect(screen.getByRole("button", { name: "Save config" })).toBeDisabled();
  });

  it("test_config_editor_api_422_shows_message_beside_the_named_field", async () => {
    const calls = stubPatch(422, {
      error: { code: "validation_error", message: "Input should be greater than or equal to 1", field: "body.params.fast", request_id: "r1" },
    });
    const user = userEvent.setup();
    render(<ConfigEditor strategy={STRATEGY} onSaved={() => {}} />);
    const fast = screen.getByRole("spinbutton", { name: "fast" });
    await user.clear(fast);
    await user.type(fast, "0");
    await user.click(screen.getByRole("button", { name: "Save config" }));

    const message = await screen.findByText("Input should be greater than or equal to 1");
    const fastField = fast.closest("[data-field]") as HTMLElement;
    expect(fastField).toHaveAttribute("data-field", "params.fast");
    expect(within(fastField).getByText("Input should be greater than or equal to 1")).toBe(message);
    expect(fast).toHaveAttribute("aria-invalid", "true");
    expect(fast).toHaveAccessibleDescription("Input should be greater than or equal to 1");
    const slowField = screen.getByRole("spinbutton", { name: "slow" }).closest("[data-field]") as HTMLElement;
    expect(within(slowField).queryByRole("alert")).toBeNull();

    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe("/api/v1/strategies/momentum_v1");
    expect(calls[0]!.init?.method).toBe("PATCH");
    expect(JSON.parse(String(calls[0]!.init?.body))).toEqual({ params: { fast: 0 } });
  });

  it("test_config_editor_422_on_a_risk_cap_is_shown_beside_that_cap", async () => {
    stubPatch(422, {
      error: { code: "validation_error", message: "Input should be less than or equal to 10", field: "body.risk.max_position_pct", request_id: "r2" },
    });
    const user = userEvent.setup();
    render(<ConfigEditor strategy={STRATEGY} onSaved={() => {}} />);
    const cap = screen.getByRole("spinbutton", { name: "max_position_pct" });
    await user.clear(cap);
    await user.type(cap, "50");
    await user.click(screen.getByRole("button", { name: "Save config" }));
    const field = cap.closest("[data-field]") as HTMLElement;
    expect(await within(field).findByText("Input should be less than or equal to 10")).toBeInTheDocument();
  });

  it("test_config_editor_success_sends_changes_only_and_shows_a_saved_note", async () => {
    const saved = { ...STRATEGY, status: "paused", config: { ...STRATEGY.config, params: { fast: 10, slow: 50 } } };
    const calls = stubPatch(200, saved);
    const onSaved = vi.fn();
    const user = userEvent.setup();
    render(<ConfigEditor strategy={STRATEGY} onSaved={onSaved} />);
    const fast = screen.getByRole("spinbutton", { name: "fast" });
    await user.clear(fast);
    await user.type(fast, "10");
    await user.selectOptions(screen.getByRole("combobox", { name: "status" }), "paused");
    await user.click(screen.getByRole("button", { name: "Save config" }));
    expect(await screen.findByText(/^Saved /)).toBeInTheDocument();
    expect(JSON.parse(String(calls[0]!.init?.body))).toEqual({ params: { fast: 10 }, status: "paused" });
    expect(onSaved).toHaveBeenCalledWith(saved);
    expect(screen.getByRole("button", { name: "Save config" })).toBeDisabled();
  });

  it("test_config_editor_param_without_schema_falls_back_to_json_text", () => {
    const strategy = { ...STRATEGY, params_schema: null, config: { ...STRATEGY.config, params: { weights: [0.5, 0.5] } } };
    render(<ConfigEditor strategy={strategy} onSaved={() => {}} />);
    expect(screen.getByRole("textbox", { name: /weights/ })).toHaveValue("[0.5,0.5]");
  });

  it("test_config_view_shows_values_read_only", () => {
    render(<ConfigView strategy={STRATEGY} />);
    expect(screen.getByText("fast")).toBeInTheDocument();
    expect(screen.getByText("20")).toBeInTheDocument();
    expect(screen.queryByRole("spinbutton")).toBeNull();
    expect(screen.queryByRole("button")).toBeNull();
  });
});

describe("ConfigEditor rules across params", () => {
  it("test_config_editor_422_naming_params_is_shown_under_the_params_group", async () => {
    stubPatch(422, {
      error: { code: "validation_error", message: "fast (80) must be smaller than slow (50)", field: "body.params", request_id: "r3" },
    });
    const user = userEvent.setup();
    render(<ConfigEditor strategy={STRATEGY} onSaved={() => {}} />);
    const fast = screen.getByRole("spinbutton", { name: "fast" });
    await user.clear(fast);
    await user.type(fast, "80");
    await user.click(screen.getByRole("button", { name: "Save config" }));
    const params = screen.getByRole("group", { name: "Params" });
    expect(await within(params).findByText("fast (80) must be smaller than slow (50)")).toBeInTheDocument();
    expect(within(screen.getByRole("group", { name: "Risk caps" })).queryByRole("alert")).toBeNull();
  });
});
