// Each named scenario starts in the situation its description promises; what happens next follows the
// ordinary rules (covered by gotchas.test.ts and orders.test.ts).
import { afterEach, describe, expect, it } from "vitest";
import { SCENARIO_NAMES } from "../../src/simulator/index.ts";
import { SCENARIOS } from "../../src/simulator/scenarios.ts";
import { type TestSimulator, testSimulator } from "../support/simulator.ts";

let t: TestSimulator;
afterEach(async () => {
  await t?.close();
});

describe("scenarios", () => {
  it("has the scenarios the documentation names", () => {
    expect([...SCENARIO_NAMES].sort()).toEqual(
      [
        "ambiguous-contracts",
        "competing-session",
        "delayed-data",
        "expiring-session",
        "frozen-data",
        "gateway-down",
        "healthy",
        "live-account",
        "many-positions",
        "multi-account",
        "no-market-data-subscription",
        "no-session",
        "questions",
        "rate-limited",
        "slow-pnl",
        "sso-only",
      ].sort(),
    );
    for (const scenario of SCENARIOS.values()) expect(scenario.description.length).toBeGreaterThan(20);
  });

  it("refuses an unknown scenario naming the known ones", () => {
    expect(() => testSimulator({ scenario: "nope" })).toThrow(
      /Unknown simulator scenario "nope"\. Scenarios: healthy/,
    );
  });

  it("multi-account: two paper accounts, switched with /iserver/account", async () => {
    t = testSimulator({ scenario: "multi-account" });
    const accounts = (await t.raw("GET", "/iserver/accounts")).body as {
      accounts: string[];
      selectedAccount: string;
      isPaper: boolean;
    };
    expect(accounts).toMatchObject({
      accounts: ["DU1234567", "DU2345678"],
      selectedAccount: "DU1234567",
      isPaper: true,
    });
    expect((await t.raw("POST", "/iserver/account", { acctId: "DU2345678" })).body).toEqual({
      set: true,
      acctId: "DU2345678",
    });
    expect(
      ((await t.raw("GET", "/iserver/accounts")).body as { selectedAccount: string }).selectedAccount,
    ).toBe("DU2345678");
    expect((await t.raw("POST", "/iserver/account", { acctId: "U0000000" })).status).toBe(500);
  });

  it("live-account: a live login whose account is not paper", async () => {
    t = testSimulator({ scenario: "live-account" });
    expect((await t.raw("GET", "/iserver/accounts")).body).toMatchObject({
      accounts: ["U7654321"],
      isPaper: false,
    });
    const portfolio = (await t.raw("GET", "/portfolio/accounts")).body as { type: string }[];
    expect(portfolio[0]?.type).toBe("INDIVIDUAL");
  });

  it("expiring-session: the session ends two minutes after start, busy or not", async () => {
    t = testSimulator({ scenario: "expiring-session" });
    expect(((await t.raw("GET", "/tickle")).body as { ssoExpires: number }).ssoExpires).toBe(120_000);
    t.clock.advance(60_000);
    expect((await t.raw("GET", "/tickle")).status).toBe(200);
    t.clock.advance(60_000);
    expect((await t.raw("GET", "/tickle")).status).toBe(401);
  });

  it("ambiguous-contracts: every symbol search finds two US listings", async () => {
    t = testSimulator({ scenario: "ambiguous-contracts" });
    await t.raw("GET", "/iserver/accounts");
    const rows = (await t.raw("GET", "/iserver/secdef/search?symbol=MSFT")).body as {
      conid: string;
      description: string;
    }[];
    expect(rows.map((r) => [r.conid, r.description])).toEqual([
      ["272093", "NASDAQ"],
      ["1000272093", "IEX"],
    ]);
  });

  it("healthy: the ACME ticker is ambiguous even without the scenario", async () => {
    t = testSimulator();
    await t.raw("GET", "/iserver/accounts");
    const rows = (await t.raw("GET", "/iserver/secdef/search?symbol=ACME")).body as { companyName: string }[];
    expect(rows.map((r) => r.companyName)).toEqual([
      "ACME CORP (SIMULATED)",
      "ACME HOLDINGS INC (SIMULATED)",
    ]);
  });
});
