// @vitest-environment node
import { afterEach, describe, expect, it, vi } from "vitest";
import { CLIENT_ADDRESS_HEADER, clientAddress, clientHeaders, PROXY_SECRET_HEADER } from "./client-address";

afterEach(() => vi.unstubAllEnvs());

const forwarded = (value: string) => new Headers({ "x-forwarded-for": value });

describe("clientAddress", () => {
  it("takes the one entry next start fills in when nothing is in front of it", () => {
    expect(clientAddress(forwarded("203.0.113.7"))).toBe("203.0.113.7");
  });

  it("with a proxy in front takes what the proxy appended, never what the browser wrote", () => {
    vi.stubEnv("QUANT_DASHBOARD_PROXY_HOPS", "1");
    expect(clientAddress(forwarded("6.6.6.6, 203.0.113.7"))).toBe("203.0.113.7");
    vi.stubEnv("QUANT_DASHBOARD_PROXY_HOPS", "2");
    expect(clientAddress(forwarded("6.6.6.6, 203.0.113.7, 10.0.0.2"))).toBe("203.0.113.7");
  });

  it("drops a port and says unknown for anything that is not an address", () => {
    expect(clientAddress(forwarded("203.0.113.7:5123"))).toBe("203.0.113.7");
    expect(clientAddress(forwarded("[2001:db8::1]:443"))).toBe("2001:db8::1");
    expect(clientAddress(forwarded("evil<script>"))).toBe("unknown");
    expect(clientAddress(new Headers())).toBe("unknown");
  });
});

describe("clientHeaders", () => {
  it("sends nothing without a proxy secret", () => {
    vi.stubEnv("QUANT_PROXY_SECRET", "");
    expect(clientHeaders(forwarded("203.0.113.7"))).toEqual({});
  });

  it("sends the secret with the address", () => {
    vi.stubEnv("QUANT_PROXY_SECRET", "s".repeat(40));
    expect(clientHeaders(forwarded("203.0.113.7"))).toEqual({
      [PROXY_SECRET_HEADER]: "s".repeat(40),
      [CLIENT_ADDRESS_HEADER]: "203.0.113.7",
    });
  });
});
