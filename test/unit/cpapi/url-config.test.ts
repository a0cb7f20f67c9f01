import { afterEach, describe, expect, it } from "vitest";
import {
  getOrderStatus,
  getPositions,
  getStocksBySymbol,
  searchContracts,
} from "../../../generated/cpapi/client.gen.ts";
import { CPAPI_OPERATIONS } from "../../../generated/cpapi/operations.gen.ts";
import { createCpapiClient, encodeQueryValue, isInsecureTlsHostAllowed } from "../../../src/cpapi/index.ts";
import { buildUrl, parseBaseUrl } from "../../../src/cpapi/url.ts";
import { BASE_URL, caught, type FakeGateway, fakeGateway, virtualTime } from "./helpers.ts";

let gateway: FakeGateway;
afterEach(async () => {
  await gateway?.close();
});

function client() {
  gateway = fakeGateway();
  const time = virtualTime();
  return createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
}

describe("query encoding", () => {
  it("sends a space as %20 and keeps the value intact at the gateway", async () => {
    const c = client();
    await searchContracts(c.transport, { query: { symbol: "BRK B" } });
    const sent = gateway.calls.find((r) => r.op === "searchContracts");
    expect(sent?.rawQuery).toBe("?symbol=BRK%20B");
    expect(sent?.query.get("symbol")).toBe("BRK B");
    await c.close();
  });

  it("escapes + & = # so they cannot start a new parameter, and keeps list commas literal", async () => {
    expect(encodeQueryValue("A+B&C=D#E")).toBe("A%2BB%26C%3DD%23E");
    expect(encodeQueryValue("265598,8314")).toBe("265598,8314");
    const c = client();
    await getStocksBySymbol(c.transport, { query: { symbols: "BRK B,A+B" } });
    const sent = gateway.calls.find((r) => r.op === "getStocksBySymbol");
    expect(sent?.rawQuery).toBe("?symbols=BRK%20B,A%2BB");
    expect(sent?.query.get("symbols")).toBe("BRK B,A+B");
    await c.close();
  });

  it("builds identical URLs whatever order the caller wrote the query in", () => {
    const base = parseBaseUrl(BASE_URL);
    const op = CPAPI_OPERATIONS.getMarketSnapshot;
    const a = buildUrl(base, op, undefined, { fields: "31,84", conids: "265598" });
    const b = buildUrl(base, op, undefined, { conids: "265598", fields: "31,84" });
    expect(a.href).toBe(
      "https://localhost:5000/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31,84",
    );
    expect(b.href).toBe(a.href);
  });

  it("refuses unknown query keys, empty values and control characters without sending", async () => {
    const c = client();
    const transport = c.transport;
    const op = CPAPI_OPERATIONS.searchContracts;
    for (const query of [{ symbol: "" }, { symbol: "AAPL\n" }, { symbol: "AAPL", "x&y": "1" }]) {
      const error = await caught(transport.call(op, { query }));
      expect(error.code).toBe("INPUT_INVALID_ARGUMENT");
    }
    expect(gateway.calls).toHaveLength(0);
    await c.close();
  });
});

describe("path segments", () => {
  it.each(["U1/../x", "U1?x=1", "U1#frag", "U1\\..\\x", "..", ".", "", " U1", "U1\u0000", "U1\r\n"])(
    "refuses %j as a path parameter with INPUT_INVALID_ARGUMENT and sends nothing",
    async (accountId) => {
      const c = client();
      const error = await caught(getPositions(c.transport, { path: { accountId, pageId: 0 } }));
      expect(error.code).toBe("INPUT_INVALID_ARGUMENT");
      expect(gateway.calls).toHaveLength(0);
      await c.close();
    },
  );

  it("refuses non-integer numeric ids", async () => {
    const c = client();
    const error = await caught(getOrderStatus(c.transport, { path: { orderId: 1.5 } }));
    expect(error.code).toBe("INPUT_INVALID_ARGUMENT");
    await c.close();
  });

  it("percent-encodes what is left in a segment", () => {
    const base = parseBaseUrl(BASE_URL);
    const url = buildUrl(base, CPAPI_OPERATIONS.getAccountSummary, { accountId: "DU 12%" }, undefined);
    expect(url.pathname).toBe("/v1/api/portfolio/DU%2012%25/summary");
  });
});

describe("base URL", () => {
  it.each([
    ["http://localhost:5000/v1/api", "CONFIG_INVALID"],
    ["https://user:pw@localhost:5000/v1/api", "CONFIG_INVALID"],
    ["https://localhost:5000/v1/api?x=1", "CONFIG_INVALID"],
    ["not a url", "CONFIG_INVALID"],
    ["", "CONFIG_MISSING_BROKER_BASE_URL"],
  ])("refuses %j with %s", (baseUrl, code) => {
    let error: { code?: string } = {};
    try {
      createCpapiClient({ baseUrl });
    } catch (e) {
      error = e as { code: string };
    }
    expect(error.code).toBe(code);
  });

  it("defaults to https://localhost:5000/v1/api", async () => {
    const c = createCpapiClient({ dispatcher: fakeGateway().agent });
    expect(c.baseUrl).toBe("https://localhost:5000/v1/api");
    await c.close();
  });
});

describe("insecure TLS bypass", () => {
  it.each(["https://localhost:5000/v1/api", "https://127.0.0.1:5000/v1/api", "https://[::1]:5000/v1/api"])(
    "is accepted for %s",
    async (baseUrl) => {
      const c = createCpapiClient({ baseUrl, allowInsecureTlsForLocalhost: true });
      expect(c.tlsMode()).toBe("insecure-localhost");
      await c.close();
    },
  );

  it.each([
    "https://[::ffff:127.0.0.1]:5000/v1/api",
    "https://[::ffff:7f00:1]:5000/v1/api",
    "https://127.0.0.2:5000/v1/api",
    "https://localhost.evil.com:5000/v1/api",
    "https://localhost.:5000/v1/api",
    "https://0.0.0.0:5000/v1/api",
    "https://gateway.example.com/v1/api",
  ])("is refused for %s with CONFIG_TLS_BYPASS_NON_LOCALHOST", (baseUrl) => {
    let error: { code?: string } = {};
    try {
      createCpapiClient({ baseUrl, allowInsecureTlsForLocalhost: true });
    } catch (e) {
      error = e as { code: string };
    }
    expect(error.code).toBe("CONFIG_TLS_BYPASS_NON_LOCALHOST");
  });

  it("compares against the three normalised host names only", () => {
    expect(isInsecureTlsHostAllowed("localhost")).toBe(true);
    expect(isInsecureTlsHostAllowed("127.0.0.1")).toBe(true);
    expect(isInsecureTlsHostAllowed("[::1]")).toBe(true);
    expect(isInsecureTlsHostAllowed("::1")).toBe(false);
    expect(isInsecureTlsHostAllowed("127.0.0.3")).toBe(false);
  });

  it("keeps verification on when a CA is pinned as well", async () => {
    const c = createCpapiClient({
      allowInsecureTlsForLocalhost: true,
      caPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    });
    expect(c.tlsMode()).toBe("pinned");
    await c.close();
  });

  it("refuses a CA file that is missing or not PEM", () => {
    for (const options of [{ caFile: "/nonexistent/ca.pem" }, { caPem: "not a certificate" }]) {
      let error: { code?: string } = {};
      try {
        createCpapiClient(options);
      } catch (e) {
        error = e as { code: string };
      }
      expect(error.code).toBe("CONFIG_INVALID");
    }
  });
});
