"use client";
import { useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { ErrorState, LoadingRows } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { FieldError, Input, Label, Select, Textarea } from "@/components/ui/input";
import { api, ApiError, type BodyOf } from "@/lib/api/client";
import { type Strategy, useMe, useStrategies, useStrategy } from "@/lib/api/hooks";
import { useSymbols } from "@/lib/api/run-hooks";
import {
  availableRange,
  checkDates,
  defaultRange,
  formField,
  gridText,
  type ParamSchema,
  paramType,
  parseGrid,
  parseParam,
  parseSymbols,
  schemaParams,
  type SymbolInfo,
  valueText,
} from "./form-model";

type RunBody = BodyOf<"/v1/runs", "post">;

/** The YAML-less defaults of a walk-forward (quant_engine WalkForwardConfig). */
const WF_DEFAULTS = {
  in_sample_days: "1095",
  out_of_sample_days: "365",
  step_days: "",
  window_type: "rolling",
  objective: "sharpe",
  min_trades_required: "1",
};
const OBJECTIVES = ["sharpe", "total_return", "sortino", "calmar", "profit_factor"];
/** The API's defaults (BacktestSettings), under the one name each setting has (ADR 0019). */
const SETTINGS_DEFAULTS = {
  initial_capital: "100000",
  commission_per_trade: "1.00",
  commission_bps: "0",
  slippage_bps: "10",
  risk_free_rate: "0",
  fill_timing: "close",
  commission_rounding: "cent",
  // empty: no policy; `in_force` or a file of configs/risk (e.g. `default`), backtests only
  risk_policy: "",
};

/** Strategy first: the rest of the form is built from its config and params schema. */
export function NewBacktestForm() {
  const searchParams = useSearchParams();
  const strategies = useStrategies();
  const [picked, setPicked] = useState<string | null>(searchParams?.get("strategy") ?? null);
  const strategyId = picked ?? strategies.data?.[0]?.id ?? null;
  const strategy = useStrategy(strategyId);
  const symbols = useSymbols();

  if (strategies.error && !strategies.data) {
    return <ErrorState what="strategies" error={strategies.error} onRetry={() => strategies.mutate()} />;
  }
  if (!strategies.data) return <LoadingRows rows={6} label="Loading strategies" />;
  if (strategies.data.length === 0) {
    return (
      <Card>
        <CardBody>
          <p className="text-sm text-slate-600">
            No strategies yet: add a YAML file to configs/strategies, or a module and its YAML file to your strategies/
            folder; the API picks them up on its next look, no restart needed.
          </p>
        </CardBody>
      </Card>
    );
  }

  const picker = (
    <div>
      <Label htmlFor="run-strategy">Strategy</Label>
      <Select id="run-strategy" value={strategyId ?? ""} onChange={(e) => setPicked(e.target.value)}>
        {strategies.data.map((s) => (
          <option key={s.id} value={s.id}>
            {s.id}
          </option>
        ))}
      </Select>
      {strategy.data ? <p className="mt-1 text-xs text-slate-500">{strategy.data.description}</p> : null}
    </div>
  );

  if (strategy.error && !strategy.data) {
    return (
      <div className="space-y-4">
        {picker}
        <ErrorState what={`strategy ${strategyId}`} error={strategy.error} onRetry={() => strategy.mutate()} />
      </div>
    );
  }
  if (!strategy.data || strategy.data.id !== strategyId) {
    return (
      <div className="space-y-4">
        {picker}
        <LoadingRows rows={6} label="Loading the strategy" />
      </div>
    );
  }
  // a new strategy gets a fresh form (its own defaults), so key by its id
  return (
    <RunForm
      key={strategy.data.id}
      strategy={strategy.data}
      picker={picker}
      catalogue={symbols.data}
      catalogueError={symbols.error && !symbols.data ? symbols.error.message : null}
    />
  );
}

interface Overrides {
  type: "backtest" | "walk_forward";
  symbols?: string;
  start?: string;
  end?: string;
  params: Record<string, string>;
  grid?: string;
  wf: Partial<typeof WF_DEFAULTS>;
  settings: Partial<typeof SETTINGS_DEFAULTS>;
}

function RunForm({
  strategy,
  picker,
  catalogue,
  catalogueError,
}: {
  strategy: Strategy;
  picker: React.ReactNode;
  catalogue: SymbolInfo[] | undefined;
  catalogueError: string | null;
}) {
  const router = useRouter();
  const { data: me } = useMe();
  const [form, setForm] = useState<Overrides>({ type: "backtest", params: {}, wf: {}, settings: {} });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const config = strategy.config as Record<string, unknown>;
  const storedParams = (config["params"] ?? {}) as Record<string, unknown>;
  const storedWf = (config["walk_forward"] ?? {}) as Record<string, unknown>;
  const params = schemaParams(strategy.params_schema);
  const paramNames = params.map(([name]) => name);

  const symbolsText = form.symbols ?? strategy.universe.join(", ");
  const parsedSymbols = parseSymbols(symbolsText, catalogue, strategy.timeframe);
  const range = defaultRange(parsedSymbols.symbols, catalogue, strategy.timeframe, config);
  const start = form.start ?? range.start;
  const end = form.end ?? range.end;
  const available = availableRange(parsedSymbols.symbols, catalogue, strategy.timeframe);
  const paramText = (name: string, schema: ParamSchema) => form.params[name] ?? valueText(storedParams[name] ?? schema.default);
  const grid = form.grid ?? gridText(storedWf["parameter_grid"]);
  const wf = (key: keyof typeof WF_DEFAULTS) => form.wf[key] ?? (storedWf[key] === undefined || storedWf[key] === null ? WF_DEFAULTS[key] : valueText(storedWf[key]));
  const setting = (key: keyof typeof SETTINGS_DEFAULTS) => form.settings[key] ?? SETTINGS_DEFAULTS[key];
  const canRun = me === undefined || me.role === "trader" || me.role === "admin";

  const edit = (change: Partial<Overrides>, field?: string) => {
    setForm((f) => ({ ...f, ...change }));
    if (field && errors[field]) {
      setErrors((current) => {
        const rest = { ...current };
        delete rest[field];
        return rest;
      });
    }
  };

  /** The body to send, or the errors that keep it from being sent. */
  const build = (): { body?: RunBody; errors: Record<string, string> } => {
    const found: Record<string, string> = {};
    if (parsedSymbols.error) found["symbols"] = parsedSymbols.error;
    if (start && end && start > end) found["start"] = `start (${start}) is after end (${end})`;
    else Object.assign(found, checkDates(start, end, available));
    const overrides: Record<string, unknown> = {};
    for (const [name, schema] of params) {
      const typed = parseParam(name, paramText(name, schema), schema);
      if (typed.error) found[`params.${name}`] = typed.error;
      else if (JSON.stringify(typed.value) !== JSON.stringify(storedParams[name] ?? schema.default)) overrides[name] = typed.value;
    }
    const numberSetting = (key: "initial_capital" | "commission_per_trade" | "commission_bps" | "slippage_bps" | "risk_free_rate") => {
      const text = setting(key).trim();
      if (text === "" || !Number.isFinite(Number(text))) found[`backtest.${key}`] = "must be a number";
      return text;
    };
    const body: RunBody = {
      strategy_id: strategy.id,
      type: form.type,
      universe: parsedSymbols.symbols,
      start: start || null,
      end: end || null,
      params: overrides,
      backtest: {
        initial_capital: numberSetting("initial_capital"),
        commission_per_trade: numberSetting("commission_per_trade"),
        commission_bps: numberSetting("commission_bps"),
        slippage_bps: numberSetting("slippage_bps"),
        fill_timing: setting("fill_timing") as "close" | "next_open",
        commission_rounding: setting("commission_rounding") as "cent" | "none",
        // the API picks the compiled kernel when it gives the same result (ADR 0006)
        engine: "auto",
        risk_free_rate: Number(numberSetting("risk_free_rate")),
        risk_policy: form.type === "backtest" && setting("risk_policy").trim() !== "" ? setting("risk_policy").trim() : null,
      },
    };
    if (form.type === "walk_forward") {
      const parsed = parseGrid(grid, paramNames);
      if (parsed.error) found["walk_forward.parameter_grid"] = parsed.error;
      const days = (key: "in_sample_days" | "out_of_sample_days" | "step_days" | "min_trades_required", optional = false) => {
        const text = wf(key).trim();
        if (text === "" && optional) return null;
        if (!/^\d+$/.test(text)) {
          found[`walk_forward.${key}`] = "must be a whole number";
          return null;
        }
        return Number(text);
      };
      body.walk_forward = {
        parameter_grid: parsed.grid ?? {},
        in_sample_days: days("in_sample_days"),
        out_of_sample_days: days("out_of_sample_days"),
        step_days: days("step_days", true),
        min_trades_required: days("min_trades_required"),
        window_type: wf("window_type") as "rolling" | "anchored",
        objective: wf("objective") as NonNullable<RunBody["walk_forward"]>["objective"],
      };
    }
    return Object.keys(found).length > 0 ? { errors: found } : { body, errors: {} };
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setFormError(null);
    const { body, errors: found } = build();
    setErrors(found);
    if (!body) return;
    setSubmitting(true);
    try {
      const accepted = await api.post("/v1/runs", { body });
      router.push(`/runs/${accepted.id}`);
    } catch (error) {
      setSubmitting(false);
      if (error instanceof ApiError && error.status === 422) {
        const field = formField(error.field);
        if (field && FIELDS.has(field.replace(/^params\..*/, "params.*"))) setErrors({ [field]: error.message });
        else setFormError(`${error.field ?? "the request"}: ${error.message}`);
      } else if (error instanceof ApiError && error.status === 429) {
        setFormError(`Too many runs started: ${error.message}. Wait, then start it again.`);
      } else {
        setFormError(error instanceof Error ? error.message : String(error));
      }
    }
  };

  return (
    <form onSubmit={submit} noValidate className="space-y-5">
      <Card>
        <CardHeader title="Run" description={`${strategy.timeframe} bars · universe ${strategy.universe.join(", ")}`} />
        <CardBody className="grid gap-4 md:grid-cols-2">
          {picker}
          <div>
            <Label htmlFor="run-type">Type</Label>
            <Select id="run-type" value={form.type} onChange={(e) => edit({ type: e.target.value as Overrides["type"] })}>
              <option value="backtest">backtest</option>
              <option value="walk_forward">walk-forward</option>
            </Select>
            {form.type === "walk_forward" ? (
              <p className="mt-1 text-xs text-slate-500">Chooses parameters in sample, trades them out of sample, window after window.</p>
            ) : null}
            <FieldError>{errors["type"]}</FieldError>
          </div>
          <div className="md:col-span-2">
            <Label htmlFor="run-symbols">Symbols</Label>
            <Input
              id="run-symbols"
              value={symbolsText}
              onChange={(e) => edit({ symbols: e.target.value }, "symbols")}
              aria-invalid={errors["symbols"] ? true : undefined}
              placeholder="SP500, NASDAQ"
            />
            <SymbolChips
              catalogue={catalogue}
              timeframe={strategy.timeframe}
              chosen={parsedSymbols.symbols}
              onToggle={(symbol) => {
                const next = parsedSymbols.symbols.includes(symbol)
                  ? parsedSymbols.symbols.filter((s) => s !== symbol)
                  : [...parsedSymbols.symbols, symbol];
                edit({ symbols: next.join(", ") }, "symbols");
              }}
            />
            {catalogueError ? <p className="mt-1 text-xs text-amber-700">Could not load the symbol catalogue: {catalogueError}</p> : null}
            <FieldError>{errors["symbols"]}</FieldError>
          </div>
          <div>
            <Label htmlFor="run-start">Start</Label>
            <Input
              id="run-start"
              type="date"
              value={start}
              max={available?.last}
              aria-describedby="run-data-range"
              onChange={(e) => edit({ start: e.target.value }, "start")}
              aria-invalid={errors["start"] ? true : undefined}
            />
            <FieldError>{errors["start"]}</FieldError>
          </div>
          <div>
            <Label htmlFor="run-end">End</Label>
            <Input
              id="run-end"
              type="date"
              value={end}
              min={available?.first}
              aria-describedby="run-data-range"
              onChange={(e) => edit({ end: e.target.value }, "end")}
              aria-invalid={errors["end"] ? true : undefined}
            />
            <FieldError>{errors["end"]}</FieldError>
          </div>
          <DataRange id="run-data-range" range={available} />
        </CardBody>
      </Card>

      <Card>
        <CardHeader
          title="Parameters"
          description={form.type === "walk_forward" ? "Base values; the grid below overrides the parameters it names" : "Prefilled with the strategy's stored values"}
        />
        <CardBody className="grid gap-4 md:grid-cols-3">
          {params.length === 0 ? (
            <p className="text-sm text-slate-500">
              {strategy.params_schema === null ? "The API could not read this strategy's params schema; its stored params are used." : "This strategy takes no parameters."}
            </p>
          ) : (
            params.map(([name, schema]) => (
              <ParamInput
                key={name}
                name={name}
                schema={schema}
                value={paramText(name, schema)}
                error={errors[`params.${name}`]}
                onChange={(text) => {
                  edit({ params: { ...form.params, [name]: text } }, `params.${name}`);
                  edit({}, "params");
                }}
              />
            ))
          )}
          {errors["params"] ? (
            <div className="md:col-span-3">
              <FieldError>{errors["params"]}</FieldError>
            </div>
          ) : null}
        </CardBody>
      </Card>

      {form.type === "walk_forward" ? (
        <Card>
          <CardHeader title="Walk-forward" description="Defaults from the strategy's walk_forward block" />
          <CardBody className="grid gap-4 md:grid-cols-3">
            <div className="md:col-span-3">
              <Label htmlFor="wf-grid">Parameter grid</Label>
              <Textarea
                id="wf-grid"
                rows={Math.max(3, grid.split("\n").length + 1)}
                value={grid}
                placeholder={paramNames.slice(0, 2).map((n) => `${n} = 5, 10, 20`).join("\n")}
                onChange={(e) => edit({ grid: e.target.value }, "walk_forward.parameter_grid")}
              />
              <p className="mt-1 text-xs text-slate-500">One line per parameter: name = value, value, ...</p>
              <FieldError>{errors["walk_forward.parameter_grid"]}</FieldError>
            </div>
            <WfNumber id="in_sample_days" label="In-sample days" value={wf("in_sample_days")} error={errors["walk_forward.in_sample_days"]} onChange={(v) => edit({ wf: { ...form.wf, in_sample_days: v } }, "walk_forward.in_sample_days")} />
            <WfNumber id="out_of_sample_days" label="Out-of-sample days" value={wf("out_of_sample_days")} error={errors["walk_forward.out_of_sample_days"]} onChange={(v) => edit({ wf: { ...form.wf, out_of_sample_days: v } }, "walk_forward.out_of_sample_days")} />
            <WfNumber id="step_days" label="Step days (blank: out-of-sample days)" value={wf("step_days")} error={errors["walk_forward.step_days"]} onChange={(v) => edit({ wf: { ...form.wf, step_days: v } }, "walk_forward.step_days")} />
            <div>
              <Label htmlFor="wf-window_type">Window type</Label>
              <Select id="wf-window_type" value={wf("window_type")} onChange={(e) => edit({ wf: { ...form.wf, window_type: e.target.value } })}>
                <option value="rolling">rolling</option>
                <option value="anchored">anchored</option>
              </Select>
            </div>
            <div>
              <Label htmlFor="wf-objective">Objective</Label>
              <Select id="wf-objective" value={wf("objective")} onChange={(e) => edit({ wf: { ...form.wf, objective: e.target.value } })}>
                {OBJECTIVES.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </Select>
              <FieldError>{errors["walk_forward.objective"]}</FieldError>
            </div>
            <WfNumber id="min_trades_required" label="Min trades in sample" value={wf("min_trades_required")} error={errors["walk_forward.min_trades_required"]} onChange={(v) => edit({ wf: { ...form.wf, min_trades_required: v } }, "walk_forward.min_trades_required")} />
            <FieldError>{errors["walk_forward"]}</FieldError>
          </CardBody>
        </Card>
      ) : null}

      <Card>
        <CardHeader title="Backtest settings" />
        <CardBody className="grid gap-4 md:grid-cols-3">
          {(
            [
              ["initial_capital", "Initial capital"],
              ["commission_per_trade", "Commission per trade"],
              ["commission_bps", "Commission (bps)"],
              ["slippage_bps", "Slippage (bps)"],
              ["risk_free_rate", "Risk-free rate (annual, 0.02 = 2 %)"],
            ] as const
          ).map(([key, label]) => (
            <div key={key}>
              <Label htmlFor={`bt-${key}`}>{label}</Label>
              <Input
                id={`bt-${key}`}
                inputMode="decimal"
                value={setting(key)}
                onChange={(e) => edit({ settings: { ...form.settings, [key]: e.target.value } }, `backtest.${key}`)}
              />
              <FieldError>{errors[`backtest.${key}`]}</FieldError>
            </div>
          ))}
          <div>
            <Label htmlFor="bt-fill_timing">Fill timing</Label>
            <Select id="bt-fill_timing" value={setting("fill_timing")} onChange={(e) => edit({ settings: { ...form.settings, fill_timing: e.target.value } })}>
              <option value="close">close of the signal bar</option>
              <option value="next_open">next bar open</option>
            </Select>
            <FieldError>{errors["backtest.fill_timing"]}</FieldError>
          </div>
          <div>
            <Label htmlFor="bt-commission_rounding">Commission rounding</Label>
            <Select
              id="bt-commission_rounding"
              value={setting("commission_rounding")}
              onChange={(e) => edit({ settings: { ...form.settings, commission_rounding: e.target.value } })}
            >
              <option value="cent">to the cent, as brokers bill</option>
              <option value="none">exact (to match engines that do not round)</option>
            </Select>
            <FieldError>{errors["backtest.commission_rounding"]}</FieldError>
          </div>
          {form.type === "backtest" ? (
            <div>
              <Label htmlFor="bt-risk_policy">Risk policy (in_force, a file of configs/risk, or empty)</Label>
              <Input
                id="bt-risk_policy"
                placeholder="none"
                value={setting("risk_policy")}
                onChange={(e) => edit({ settings: { ...form.settings, risk_policy: e.target.value } }, "backtest.risk_policy")}
              />
              <FieldError>{errors["backtest.risk_policy"]}</FieldError>
            </div>
          ) : null}
        </CardBody>
      </Card>

      {formError ? (
        <p role="alert" className="rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900">
          {formError}
        </p>
      ) : null}
      {!canRun ? <p className="text-sm text-slate-600">Viewers can look at runs; a trader or admin starts them.</p> : null}
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={submitting || !canRun}>
          {submitting ? "Starting…" : "Start backtest"}
        </Button>
        {Object.keys(errors).length > 0 ? <span className="text-sm text-red-700">Fix the fields marked above.</span> : null}
      </div>
    </form>
  );
}

/** Form fields an API error can be shown beside (`params.*` stands for every param). */
const FIELDS = new Set([
  "strategy_id",
  "type",
  "symbols",
  "start",
  "end",
  "params",
  "params.*",
  "backtest.initial_capital",
  "backtest.commission_per_trade",
  "backtest.commission_bps",
  "backtest.slippage_bps",
  "backtest.risk_free_rate",
  "backtest.fill_timing",
  "backtest.commission_rounding",
  "backtest.risk_policy",
  "walk_forward",
  "walk_forward.parameter_grid",
  "walk_forward.in_sample_days",
  "walk_forward.out_of_sample_days",
  "walk_forward.step_days",
  "walk_forward.objective",
  "walk_forward.min_trades_required",
]);

function ParamInput({
  name,
  schema,
  value,
  error,
  onChange,
}: {
  name: string;
  schema: ParamSchema;
  value: string;
  error?: string;
  onChange: (text: string) => void;
}) {
  const type = paramType(schema);
  const id = `param-${name}`;
  const bounds = [
    schema.minimum !== undefined ? `≥ ${schema.minimum}` : schema.exclusiveMinimum !== undefined ? `> ${schema.exclusiveMinimum}` : null,
    schema.maximum !== undefined ? `≤ ${schema.maximum}` : schema.exclusiveMaximum !== undefined ? `< ${schema.exclusiveMaximum}` : null,
  ]
    .filter(Boolean)
    .join(", ");
  return (
    <div>
      <Label htmlFor={id}>{name}</Label>
      {schema.enum ? (
        <Select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          {schema.enum.map((option) => (
            <option key={valueText(option)} value={valueText(option)}>
              {valueText(option)}
            </option>
          ))}
        </Select>
      ) : type === "boolean" ? (
        <Select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="true">true</option>
          <option value="false">false</option>
        </Select>
      ) : (
        <Input
          id={id}
          type={type === "integer" || type === "number" ? "number" : "text"}
          step={type === "integer" ? 1 : "any"}
          min={schema.minimum}
          max={schema.maximum}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={error ? true : undefined}
        />
      )}
      <p className="mt-1 text-xs text-slate-500">
        {[schema.description, type, bounds].filter(Boolean).join(" · ")}
      </p>
      <FieldError>{error}</FieldError>
    </div>
  );
}

/** The days the chosen symbols' bars cover, from the catalogue of ingested data. */
function DataRange({ id, range }: { id: string; range: ReturnType<typeof availableRange> }) {
  if (!range) {
    return (
      <p id={id} className="text-xs text-slate-500 md:col-span-2">
        No ingested bars of these symbols in this timeframe: the API checks the dates against the strategy&apos;s data source.
      </p>
    );
  }
  const names = range.symbols.map((s) => s.symbol).join(", ");
  if (range.first > range.last) {
    return (
      <p id={id} className="text-xs text-amber-700 md:col-span-2">
        {names} share no dates: {range.symbols.map((s) => `${s.symbol} ${s.first} → ${s.last}`).join(", ")}
      </p>
    );
  }
  return (
    <p id={id} className="text-xs text-slate-500 md:col-span-2">
      Data for {names}: {range.first} → {range.last}
    </p>
  );
}

function WfNumber({ id, label, value, error, onChange }: { id: string; label: string; value: string; error?: string; onChange: (v: string) => void }) {
  return (
    <div>
      <Label htmlFor={`wf-${id}`}>{label}</Label>
      <Input id={`wf-${id}`} type="number" min={0} step={1} value={value} onChange={(e) => onChange(e.target.value)} />
      <FieldError>{error}</FieldError>
    </div>
  );
}

function SymbolChips({
  catalogue,
  timeframe,
  chosen,
  onToggle,
}: {
  catalogue: SymbolInfo[] | undefined;
  timeframe: string;
  chosen: string[];
  onToggle: (symbol: string) => void;
}) {
  const usable = (catalogue ?? []).filter((c) => c.timeframe === timeframe);
  if (usable.length === 0) return null;
  return (
    <div className="mt-2 flex flex-wrap gap-1.5" aria-label="ingested symbols">
      {usable.map((c) => {
        const on = chosen.includes(c.symbol);
        return (
          <button
            key={c.symbol}
            type="button"
            aria-pressed={on}
            onClick={() => onToggle(c.symbol)}
            title={`${c.bar_count.toLocaleString("en-US")} ${c.timeframe} bars, ${c.first_ts.slice(0, 10)} → ${c.last_ts.slice(0, 10)}`}
            className={`rounded-full border px-2 py-0.5 text-xs ${on ? "border-sky-600 bg-sky-50 text-sky-800" : "border-slate-300 text-slate-600 hover:bg-slate-50"}`}
          >
            {c.symbol}
          </button>
        );
      })}
    </div>
  );
}
