"use client";
import { useMemo, useState } from "react";
import { Button } from "@/components/ui/button";
import { FieldError, Input, Label, Select, Textarea } from "@/components/ui/input";
import { api, type ApiError, type BodyOf } from "@/lib/api/client";
import type { Strategy } from "@/lib/api/hooks";
import { dateTime } from "@/lib/format";
import {
  FieldParseError,
  fieldOfError,
  fromFormValue,
  paramFields,
  rangeText,
  RISK_FIELDS,
  toFormValue,
  type FieldSpec,
} from "./config-fields";

type Update = BodyOf<"/v1/strategies/{strategy_id}", "patch">;
type Values = Record<string, string | boolean>;

export const STATUSES = ["active", "paused", "archived"] as const;

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function storedValue(strategy: Strategy, field: FieldSpec): unknown {
  return asRecord(strategy.config[field.group])[field.name];
}

function initialValues(strategy: Strategy, fields: FieldSpec[]): Values {
  const values: Values = { status: strategy.status };
  for (const field of fields) values[field.path] = toFormValue(field, storedValue(strategy, field));
  return values;
}

function FieldInput({
  field,
  value,
  error,
  onChange,
}: {
  field: FieldSpec;
  value: string | boolean;
  error: string | undefined;
  onChange: (value: string | boolean) => void;
}) {
  const id = `field-${field.path.replace(/\W/g, "-")}`;
  const errorId = `${id}-error`;
  const common = {
    id,
    name: field.path,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? errorId : undefined,
  };
  const hint = [
    field.description,
    rangeText(field),
    field.defaultValue !== undefined ? `default ${JSON.stringify(field.defaultValue)}` : undefined,
    field.emptyMeans ? `empty = ${field.emptyMeans}` : undefined,
  ]
    .filter(Boolean)
    .join(" · ");

  let input: React.ReactNode;
  if (field.kind === "boolean") {
    input = (
      <input
        {...common}
        type="checkbox"
        className="h-4 w-4"
        checked={value === true}
        onChange={(event) => onChange(event.target.checked)}
      />
    );
  } else if (field.kind === "enum") {
    input = (
      <Select {...common} value={String(value)} onChange={(event) => onChange(event.target.value)}>
        <option value="">(default)</option>
        {field.options?.map((option) => (
          <option key={option}>{option}</option>
        ))}
      </Select>
    );
  } else if (field.kind === "json") {
    input = <Textarea {...common} rows={2} value={String(value)} onChange={(event) => onChange(event.target.value)} />;
  } else {
    input = (
      <Input
        {...common}
        type={field.kind === "string" ? "text" : "number"}
        step={field.kind === "integer" ? 1 : "any"}
        min={field.minExclusive ? undefined : field.min}
        max={field.maxExclusive ? undefined : field.max}
        value={String(value)}
        onChange={(event) => onChange(event.target.value)}
      />
    );
  }
  return (
    <div data-field={field.path}>
      <Label htmlFor={id}>
        {field.label}
        {field.kind === "json" ? <span className="ml-1 font-normal text-slate-400">(JSON)</span> : null}
      </Label>
      {input}
      {hint ? <p className="mt-0.5 text-[11px] text-slate-500">{hint}</p> : null}
      <div id={errorId}>
        <FieldError>{error}</FieldError>
      </div>
    </div>
  );
}

/** Admin form over a strategy's params (typed from its params schema), risk caps and status.
 * Only changed values are sent; the API validates them with the strategy class and a 422 is
 * shown beside the field it names. */
export function ConfigEditor({ strategy, onSaved }: { strategy: Strategy; onSaved: (next: Strategy) => void }) {
  const [base, setBase] = useState(strategy);
  const fields = useMemo(
    () => [...paramFields(base.params_schema, asRecord(base.config["params"])), ...RISK_FIELDS],
    [base],
  );
  const initial = useMemo(() => initialValues(base, fields), [base, fields]);
  const [values, setValues] = useState<Values>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [savedAt, setSavedAt] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const changed = Object.keys(values).filter((key) => values[key] !== initial[key]);

  const set = (key: string, value: string | boolean) => {
    setValues((current) => ({ ...current, [key]: value }));
    setErrors((current) => {
      const rest = { ...current };
      delete rest[key];
      delete rest[key.split(".")[0]!];
      return rest;
    });
    setSavedAt(null);
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setErrors({});
    setFormError(null);
    setSavedAt(null);
    const body: { params?: Record<string, unknown>; risk?: Record<string, unknown>; status?: string } = {};
    try {
      for (const field of fields) {
        if (values[field.path] === initial[field.path]) continue;
        const value = fromFormValue(field, values[field.path] ?? "");
        // an emptied risk input means "leave as is", unless emptying it removes the cap
        if (value === null && field.group === "risk" && !field.emptyMeans) continue;
        (body[field.group] ??= {})[field.name] = value;
      }
    } catch (caught) {
      if (caught instanceof FieldParseError) {
        setErrors({ [caught.path]: caught.message });
        return;
      }
      throw caught;
    }
    if (values["status"] !== initial["status"]) body.status = String(values["status"]);
    setBusy(true);
    try {
      const next = await api.patch("/v1/strategies/{strategy_id}", {
        path: { strategy_id: strategy.id },
        body: body as Update,
      });
      setBase(next);
      setValues(initialValues(next, fields));
      setSavedAt(new Date().toISOString());
      onSaved(next);
    } catch (caught) {
      const error = caught as ApiError; // api.* throws only ApiError
      const key = error.status === 422 ? fieldOfError(error.field, fields) : null;
      if (key) setErrors({ [key]: error.message });
      else setFormError(`${error.message}${error.field ? ` (${error.field})` : ""}`);
    } finally {
      setBusy(false);
    }
  };

  const group = (name: FieldSpec["group"]) =>
    fields
      .filter((field) => field.group === name)
      .map((field) => (
        <FieldInput
          key={field.path}
          field={field}
          value={values[field.path] ?? ""}
          error={errors[field.path]}
          onChange={(value) => set(field.path, value)}
        />
      ));

  return (
    <form onSubmit={submit} aria-label="strategy config" className="space-y-5" noValidate>
      <fieldset>
        <legend className="mb-2 text-xs font-semibold text-slate-500 uppercase">Params</legend>
        {fields.some((f) => f.group === "params") ? (
          <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3">{group("params")}</div>
        ) : (
          <p className="text-sm text-slate-500">This strategy takes no params.</p>
        )}
        <FieldError>{errors["params"]}</FieldError>
      </fieldset>
      <fieldset>
        <legend className="mb-2 text-xs font-semibold text-slate-500 uppercase">Risk caps</legend>
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3">{group("risk")}</div>
        <FieldError>{errors["risk"]}</FieldError>
      </fieldset>
      <fieldset>
        <legend className="mb-2 text-xs font-semibold text-slate-500 uppercase">Status</legend>
        <div className="max-w-xs">
          <Label htmlFor="field-status">status</Label>
          <Select
            id="field-status"
            value={String(values["status"])}
            aria-invalid={errors["status"] ? true : undefined}
            onChange={(event) => set("status", event.target.value)}
          >
            {STATUSES.map((status) => (
              <option key={status}>{status}</option>
            ))}
          </Select>
          <FieldError>{errors["status"]}</FieldError>
        </div>
      </fieldset>
      {formError ? (
        <p role="alert" className="rounded-md border border-red-200 bg-red-50 p-2 text-sm text-red-800">
          Not saved: {formError}
        </p>
      ) : null}
      {savedAt ? (
        <p role="status" className="rounded-md border border-emerald-200 bg-emerald-50 p-2 text-sm text-emerald-800">
          Saved {dateTime(savedAt)}: the API validated the new config with the strategy class; the next run uses it.
        </p>
      ) : null}
      <div className="flex items-center gap-2">
        <Button type="submit" disabled={busy || changed.length === 0}>
          {busy ? "Saving…" : "Save config"}
        </Button>
        <Button type="button" variant="ghost" disabled={busy || changed.length === 0} onClick={() => setValues(initial)}>
          Discard changes
        </Button>
        <span className="text-xs text-slate-500">
          {changed.length === 0 ? "no changes" : `${changed.length} changed`} · audited with your name
        </span>
      </div>
    </form>
  );
}

/** What viewers and traders see: the stored params, risk caps and status, read-only. */
export function ConfigView({ strategy }: { strategy: Strategy }) {
  const params = asRecord(strategy.config["params"]);
  const risk = asRecord(strategy.config["risk"]);
  const rows = (record: Record<string, unknown>) =>
    Object.entries(record).map(([key, value]) => (
      <div key={key} className="flex justify-between gap-3 py-1 text-sm">
        <dt className="font-mono text-xs text-slate-600">{key}</dt>
        <dd className="tabular font-mono text-xs">{JSON.stringify(value)}</dd>
      </div>
    ));
  return (
    <div className="grid gap-5 md:grid-cols-3" data-testid="config-readonly">
      <div>
        <h3 className="mb-1 text-xs font-semibold text-slate-500 uppercase">Params</h3>
        <dl className="divide-y divide-slate-100">{Object.keys(params).length ? rows(params) : <p className="text-sm text-slate-500">defaults</p>}</dl>
      </div>
      <div>
        <h3 className="mb-1 text-xs font-semibold text-slate-500 uppercase">Risk caps</h3>
        <dl className="divide-y divide-slate-100">{rows(risk)}</dl>
      </div>
      <div>
        <h3 className="mb-1 text-xs font-semibold text-slate-500 uppercase">Status</h3>
        <p className="text-sm">{strategy.status}</p>
        <p className="mt-3 text-xs text-slate-500">Only admins can change the config.</p>
      </div>
    </div>
  );
}
