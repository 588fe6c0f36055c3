import { describe, expect, it } from "vitest";
import { fieldOfError, FieldParseError, fromFormValue, paramFields, rangeText, RISK_FIELDS } from "./config-fields";

/** A pydantic v2 model_json_schema() with the shapes it produces for optional, enum and list params. */
const SCHEMA = {
  $defs: { Side: { enum: ["long", "short", "both"], title: "Side", type: "string" } },
  additionalProperties: false,
  properties: {
    lookback: { default: 126, exclusiveMinimum: 0, maximum: 2520, title: "Lookback", type: "integer" },
    threshold: { anyOf: [{ type: "number" }, { type: "null" }], default: null, description: "entry z-score" },
    side: { $ref: "#/$defs/Side", default: "long" },
    use_volume: { default: false, type: "boolean" },
    weights: { items: { type: "number" }, type: "array" },
  },
  type: "object",
};

describe("paramFields", () => {
  it("test_param_fields_pydantic_schema_maps_each_type_to_its_input_kind", () => {
    const fields = paramFields(SCHEMA, { legacy: 3 });
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(byName["lookback"]).toMatchObject({ kind: "integer", min: 0, minExclusive: true, max: 2520, path: "params.lookback" });
    expect(byName["threshold"]).toMatchObject({ kind: "number", description: "entry z-score" });
    expect(byName["side"]).toMatchObject({ kind: "enum", options: ["long", "short", "both"], defaultValue: "long" });
    expect(byName["use_volume"]?.kind).toBe("boolean");
    expect(byName["weights"]?.kind).toBe("json");
    expect(byName["legacy"]?.kind).toBe("json"); // stored but not in the schema
  });

  it("test_param_fields_no_schema_gives_json_fields_for_stored_params", () => {
    expect(paramFields(null, { fast: 5 }).map((f) => [f.name, f.kind])).toEqual([["fast", "json"]]);
  });
});

describe("form values", () => {
  const integer = RISK_FIELDS.find((f) => f.name === "max_positions")!;
  it("test_from_form_value_empty_is_null_and_bad_numbers_name_the_field", () => {
    expect(fromFormValue(integer, "")).toBeNull();
    expect(fromFormValue(integer, "7")).toBe(7);
    expect(() => fromFormValue(integer, "7.5")).toThrow(FieldParseError);
    const json = paramFields(null, { weights: [1] })[0]!;
    expect(fromFormValue(json, "[0.5, 0.5]")).toEqual([0.5, 0.5]);
    try {
      fromFormValue(json, "[0.5,");
      expect.unreachable();
    } catch (error) {
      expect((error as FieldParseError).path).toBe("params.weights");
    }
  });

  it("test_range_text_shows_exclusive_and_inclusive_bounds", () => {
    expect(rangeText(RISK_FIELDS[0]!)).toBe("0 < x ≤ 10");
    expect(rangeText(integer)).toBe("x ≥ 1");
  });

  it("test_risk_gate_caps_are_offered_with_their_bounds_and_empty_removes_them", () => {
    const byName = Object.fromEntries(RISK_FIELDS.map((f) => [f.name, f]));
    expect(rangeText(byName["price_collar_pct"]!)).toBe("0 < x ≤ 1");
    expect(rangeText(byName["max_orders_per_minute"]!)).toBe("x ≥ 1");
    for (const name of ["max_position_qty", "max_order_notional", "price_collar_pct", "max_orders_per_minute"]) {
      expect(byName[name]!.emptyMeans).toBeTruthy();
      expect(fromFormValue(byName[name]!, "")).toBeNull();
    }
  });
});

describe("fieldOfError", () => {
  const fields = paramFields(SCHEMA, {});
  it("test_field_of_error_matches_api_paths_to_fields_groups_or_nothing", () => {
    expect(fieldOfError("params.lookback", fields)).toBe("params.lookback");
    expect(fieldOfError("body.params.lookback", fields)).toBe("params.lookback");
    expect(fieldOfError("params.weights.1", [...fields])).toBe("params.weights");
    expect(fieldOfError("params", fields)).toBe("params");
    expect(fieldOfError("status", fields)).toBe("status");
    expect(fieldOfError("universe", fields)).toBeNull();
    expect(fieldOfError(null, fields)).toBeNull();
  });
});
