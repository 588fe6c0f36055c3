import { describe, expect, it } from "vitest";
import { availableRange, checkDates, type SymbolInfo } from "./form-model";

const CATALOGUE: SymbolInfo[] = [
  { symbol: "SP500", timeframe: "1d", first_ts: "1999-01-04T00:00:00Z", last_ts: "2018-12-31T00:00:00Z", bar_count: 5031 },
  { symbol: "GOOG", timeframe: "1d", first_ts: "2004-08-19T00:00:00Z", last_ts: "2013-03-01T00:00:00Z", bar_count: 2148 },
  { symbol: "LATE", timeframe: "1d", first_ts: "2015-01-02T00:00:00Z", last_ts: "2016-12-30T00:00:00Z", bar_count: 500 },
  { symbol: "EURUSD", timeframe: "1h", first_ts: "2017-04-19T09:00:00Z", last_ts: "2018-02-07T15:00:00Z", bar_count: 5000 },
];

describe("availableRange", () => {
  it("test_available_range_is_what_every_chosen_symbol_covers", () => {
    expect(availableRange(["SP500", "GOOG"], CATALOGUE, "1d")).toEqual({
      first: "2004-08-19",
      last: "2013-03-01",
      symbols: [
        { symbol: "SP500", first: "1999-01-04", last: "2018-12-31" },
        { symbol: "GOOG", first: "2004-08-19", last: "2013-03-01" },
      ],
    });
  });

  it("test_available_range_is_null_without_catalogue_entries_for_the_timeframe", () => {
    expect(availableRange(["EURUSD"], CATALOGUE, "1d")).toBeNull();
    expect(availableRange(["SP500"], undefined, "1d")).toBeNull();
  });

  it("test_available_range_has_no_common_dates_when_the_symbols_share_none", () => {
    const range = availableRange(["GOOG", "LATE"], CATALOGUE, "1d");
    expect(range?.first).toBe("2015-01-02");
    expect(range?.last).toBe("2013-03-01");
  });
});

describe("checkDates", () => {
  const range = (symbols: string[]) => availableRange(symbols, CATALOGUE, "1d");

  it("test_check_dates_accepts_dates_inside_the_data", () => {
    expect(checkDates("2005-01-03", "2012-12-31", range(["SP500", "GOOG"]))).toEqual({});
    expect(checkDates("", "", range(["SP500"]))).toEqual({});
    expect(checkDates("1990-01-01", "2000-01-01", null)).toEqual({});
  });

  it("test_check_dates_refuses_a_start_after_a_symbols_last_bar_as_the_api_does", () => {
    expect(checkDates("2014-01-02", "", range(["SP500", "GOOG"]))).toEqual({
      start:
        "no GOOG bars on or after 2014-01-02: GOOG has bars from 2004-08-19 to 2013-03-01; " +
        "the range all of SP500, GOOG have is 2004-08-19 to 2013-03-01",
    });
  });

  it("test_check_dates_refuses_an_end_before_a_symbols_first_bar", () => {
    expect(checkDates("", "1998-12-31", range(["SP500"]))).toEqual({
      end: "no SP500 bars on or before 1998-12-31: SP500 has bars from 1999-01-04 to 2018-12-31",
    });
  });

  it("test_check_dates_says_when_the_symbols_share_no_dates", () => {
    expect(checkDates("2016-01-04", "", range(["GOOG", "LATE"])).start).toContain("GOOG, LATE have no dates in common");
  });
});
