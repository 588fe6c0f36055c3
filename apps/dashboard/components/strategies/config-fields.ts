/**
 * Typed form fields for a strategy's params (from `params_schema`, the JSON schema of its params
 * model) and its risk caps (quant_api RiskUpdate), and the conversions between form text and the
 * values PATCH /v1/strategies/{id} takes. A param whose schema this cannot render as one input
 * falls back to a JSON text field.
 */

export type FieldKind = "integer" | "number" | "boolean" | "string" | "enum" | "json";

export interface FieldSpec {
  /** the name the API's 422 uses: `params.fast`, `risk.max_position_pct` */
  path: string;
  name: string;
  group: "params" | "risk";
  label: string;
  kind: FieldKind;
  description?: string;
  min?: number;
  max?: number;
  /** the bound itself is not allowed (JSON schema exclusiveMinimum / exclusiveMaximum) */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  options?: string[];
  /** what an empty input means when sent (params: back to the default; max_positions: no cap) */
  emptyMeans?: string;
  defaultValue?: unknown;
}

type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchema>;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) {
    if (schema.allOf?.length === 1) return { ...resolve(schema.allOf[0]!, root), ...schema, allOf: undefined };
    return schema;
  }
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(schema.$ref);
  const target = match ? (match[1] === "$defs" ? root.$defs : root.definitions)?.[match[2]!] : undefined;
  return target ? { ...resolve(target, root), ...schema, $ref: undefined } : schema;
}

/** The one non-null branch of `anyOf: [X, {type: null}]`, else the schema itself. */
function withoutNull(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const rest = branches.filter((b) => b.type !== "null");
    if (rest.length === 1) return { ...resolve(rest[0]!, root), description: schema.description, title: schema.title };
    return schema;
  }
  if (Array.isArray(schema.type)) {
    const rest = schema.type.filter((t) => t !== "null");
    return rest.length === 1 ? { ...schema, type: rest[0] } : schema;
  }
  return schema;
}

function kindOf(schema: JsonSchema): FieldKind {
  if (schema.enum && schema.enum.every((v) => typeof v === "string")) return "enum";
  switch (schema.type) {
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "string":
      return "string";
    default:
      return "json";
  }
}

function bounds(schema: JsonSchema): Pick<FieldSpec, "min" | "max" | "minExclusive" | "maxExclusive"> {
  return {
    min: schema.minimum ?? schema.exclusiveMinimum,
    minExclusive: schema.minimum === undefined && schema.exclusiveMinimum !== undefined,
    max: schema.maximum ?? schema.exclusiveMaximum,
    maxExclusive: schema.maximum === undefined && schema.exclusiveMaximum !== undefined,
  };
}

/** "0 < x ≤ 10", "x ≥ 1": the range a number field accepts, or undefined. */
export function rangeText(field: FieldSpec): string | undefined {
  const low = field.min === undefined ? "" : `${field.min} ${field.minExclusive ? "<" : "≤"} `;
  const high = field.max === undefined ? "" : ` ${field.maxExclusive ? "<" : "≤"} ${field.max}`;
  if (!low && !high) return undefined;
  if (!high) return `x ${field.minExclusive ? ">" : "≥"} ${field.min}`;
  return `${low}x${high}`;
}

/** One field per property of the params schema, plus stored params the schema does not list. */
export function paramFields(paramsSchema: unknown, stored: Record<string, unknown>): FieldSpec[] {
  const root: JsonSchema = isObject(paramsSchema) ? (paramsSchema as JsonSchema) : {};
  const properties = root.properties ?? {};
  const fields: FieldSpec[] = Object.entries(properties).map(([name, raw]) => {
    const schema = withoutNull(resolve(raw, root), root);
    const kind = kindOf(schema);
    return {
      path: `params.${name}`,
      name,
      group: "params",
      label: name,
      kind,
      description: schema.description ?? raw.description,
      ...(kind === "integer" || kind === "number" ? bounds(schema) : {}),
      options: kind === "enum" ? (schema.enum as string[]) : undefined,
      emptyMeans: "default",
      defaultValue: raw.default ?? schema.default,
    };
  });
  for (const name of Object.keys(stored)) {
    if (name in properties) continue;
    fields.push({ path: `params.${name}`, name, group: "params", label: name, kind: "json", emptyMeans: "default" });
  }
  return fields;
}

/** The risk caps an admin may change (quant_api RiskUpdate; bounds and words of
 * quant_strategy.config.RiskCaps, which validates them). */
export const RISK_FIELDS: FieldSpec[] = [
  {
    path: "risk.max_position_pct",
    name: "max_position_pct",
    group: "risk",
    label: "max_position_pct",
    kind: "number",
    description: "max |position| / equity per symbol",
    min: 0,
    minExclusive: true,
    max: 10,
  },
  {
    path: "risk.max_gross_exposure",
    name: "max_gross_exposure",
    group: "risk",
    label: "max_gross_exposure",
    kind: "number",
    description: "max sum |positions| / equity",
    min: 0,
    minExclusive: true,
    max: 10,
  },
  { path: "risk.allow_short", name: "allow_short", group: "risk", label: "allow_short", kind: "boolean" },
  {
    path: "risk.max_positions",
    name: "max_positions",
    group: "risk",
    label: "max_positions",
    kind: "integer",
    description: "max symbols held at once",
    emptyMeans: "no cap",
    min: 1,
  },
  {
    path: "risk.min_trade_pct",
    name: "min_trade_pct",
    group: "risk",
    label: "min_trade_pct",
    kind: "number",
    description: "skip rebalances smaller than this share of equity",
    min: 0,
    max: 1,
  },
  {
    path: "risk.max_position_qty",
    name: "max_position_qty",
    group: "risk",
    label: "max_position_qty",
    kind: "number",
    description: "max |position| per symbol in units",
    emptyMeans: "no cap",
    min: 0,
    minExclusive: true,
  },
  {
    path: "risk.max_order_notional",
    name: "max_order_notional",
    group: "risk",
    label: "max_order_notional",
    kind: "number",
    description: "max |quantity| x price of an order that opens or grows a position",
    emptyMeans: "no cap",
    min: 0,
    minExclusive: true,
  },
  {
    path: "risk.price_collar_pct",
    name: "price_collar_pct",
    group: "risk",
    label: "price_collar_pct",
    kind: "number",
    description: "max |limit or stop price / last close - 1| (0.05 = 5%)",
    emptyMeans: "no collar",
    min: 0,
    minExclusive: true,
    max: 1,
  },
  {
    path: "risk.max_orders_per_minute",
    name: "max_orders_per_minute",
    group: "risk",
    label: "max_orders_per_minute",
    kind: "integer",
    description: "max orders sent in any trailing 60 s",
    emptyMeans: "no limit",
    min: 1,
  },
];

/** A stored value as the text (or checkbox state) its input shows. */
export function toFormValue(field: FieldSpec, value: unknown): string | boolean {
  if (field.kind === "boolean") return value === true;
  if (value === undefined || value === null) return "";
  if (field.kind === "json") return JSON.stringify(value);
  return String(value);
}

export class FieldParseError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Form text back to the value to send: an empty input is null (default / no cap). */
export function fromFormValue(field: FieldSpec, value: string | boolean): unknown {
  if (field.kind === "boolean") return value === true;
  const text = String(value).trim();
  if (text === "") return null;
  switch (field.kind) {
    case "integer": {
      const n = Number(text);
      if (!Number.isInteger(n)) throw new FieldParseError(field.path, "must be a whole number");
      return n;
    }
    case "number": {
      const n = Number(text);
      if (!Number.isFinite(n)) throw new FieldParseError(field.path, "must be a number");
      return n;
    }
    case "json":
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new FieldParseError(field.path, "must be valid JSON (e.g. 5, \"text\", [1, 2] or {\"a\": 1})");
      }
    default:
      return text;
  }
}

/** The field the API's 422 named (`body.params.fast`), matched to ours (`params.fast`);
 * a rule across fields names its group (`params`, e.g. fast must be below slow). */
export function fieldOfError(path: string | null | undefined, fields: FieldSpec[]): string | null {
  if (!path) return null;
  let rest = path.replace(/^body\./, "");
  while (rest) {
    if (fields.some((f) => f.path === rest) || ["status", "params", "risk"].includes(rest)) return rest;
    const cut = rest.lastIndexOf(".");
    if (cut < 0) break;
    rest = rest.slice(0, cut);
  }
  return null;
}
