// The recording redactor: fed real-shaped wire bodies (the committed fixtures, with the simulator's ids swapped
// for real-looking ones, plus hand-made bodies for the shapes the fixtures lack), no original id, name or
// session string may survive anywhere in the JSON text, the same original must always become the same
// placeholder, and every redacted body must still validate against its operation's contract schema.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { CPAPI_OPERATIONS, type CpapiOperationId } from "../../../generated/cpapi/operations.gen.ts";
import { redactBody, redactRecordings } from "../../../src/cpapi/recording/redact.ts";
import { ROOT } from "../../support/run.ts";

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addKeyword("x-untrusted");

function schemaErrors(operationId: string, status: number, body: unknown): string | null {
  const operation = CPAPI_OPERATIONS[operationId as CpapiOperationId];
  const schema = (operation.responses as Record<string, unknown>)[String(status)];
  if (schema === undefined) return body === null ? null : `no schema for ${operationId} ${status}`;
  const validate = ajv.compile(schema as object);
  return validate(body) ? null : JSON.stringify(validate.errors);
}

/** What a real gateway would have sent instead of the simulator's obviously fake values. */
const REAL: ReadonlyArray<readonly [string, string]> = [
  ["0000000000000000simulated0000000", "bb665d0f55b6289d70bc7380089fc96f"],
  ["6761a2f3.0000002c", "65ee8a41.0000001e"],
  ["00000000|00:00:5E:00:53:01", "21026956|06:8E:04:45:DA:8F"],
  ["00:00:5E:00:53:01", "98:F2:B3:23:BF:A0"],
  ["JifN00000", "JifN19053"],
  ["203.0.113.10", "84.17.33.2"],
  ["123456789", "318845213"],
  ["DU1234567", "DU8812345"],
  ["DU2345678", "DU8812346"],
  ["U7654321", "U5533442"],
  ["U7654322", "U5533443"],
  ["simuser01", "jqtrader77"],
  ["Simulated Paper Trader (second account)", "Jane Q Trader Joint"],
  ["Simulated Paper Trader", "Jane Q Trader"],
  ["Simulated Live Trader", "John R Investor"],
];

/** Strings that must not appear anywhere after redaction. */
const SECRETS = [
  "bb665d0f55b6289d70bc7380089fc96f",
  "65ee8a41.0000001e",
  "21026956",
  "98:F2:B3:23:BF:A0",
  "06:8E:04:45:DA:8F",
  "JifN19053",
  "84.17.33.2",
  "318845213",
  "8812345",
  "5533442",
  "5533443",
  "jqtrader77",
  "Jane Q Trader",
  "John R Investor",
  "jane.trader@example.org",
  "2a02:8109:1234::17",
  "Retirement pot",
  "TESTACCT9",
];

interface Fixture {
  operationId: string;
  status: number;
  body: unknown;
}

function realLooking(text: string): string {
  let out = text;
  for (const [fake, real] of REAL) out = out.split(fake).join(real);
  return out;
}

const fixtureDir = join(ROOT, "fixtures/cpapi");
const fixtures: Fixture[] = readdirSync(fixtureDir)
  .filter((file) => file.endsWith(".json"))
  .sort()
  .map((file) => JSON.parse(realLooking(readFileSync(join(fixtureDir, file), "utf8"))) as Fixture);

/** Shapes the fixtures lack: several accounts keyed in P&L, an alias that is a name, errors with an e-mail. */
const extra: Fixture[] = [
  {
    operationId: "getPartitionedPnl",
    status: 200,
    body: {
      upnl: {
        "U5533442.Core": { rowType: 1, dpl: -12.5, nl: 1290.0, upl: 256.0, el: 824.6, mv: 1700.0 },
        "U5533443.Core": { rowType: 1, dpl: 3.5, nl: 900.0, upl: 6.0, el: 800.0, mv: 100.0 },
      },
    },
  },
  {
    operationId: "getBrokerageAccounts",
    status: 200,
    body: {
      accounts: ["U5533442", "TESTACCT9"],
      acctProps: { U5533442: { hasChildAccounts: false }, TESTACCT9: { hasChildAccounts: false } },
      aliases: { All: "All", U5533442: "Retirement pot", TESTACCT9: "TESTACCT9" },
      allowFeatures: {},
      chartPeriods: {},
      groups: ["All"],
      profiles: [],
      selectedAccount: "U5533442",
      serverInfo: { serverName: "JifN19053", serverVersion: "Build 10.25.0a, Aug 29, 2023 4:29:57 PM" },
      sessionId: "65ee8a41.0000001e",
      isFT: false,
      isPaper: false,
    },
  },
  {
    operationId: "getAccountSummary",
    status: 400,
    body: {
      error:
        "Bad Request: account U5533442 (jane.trader@example.org) refused from 84.17.33.2 and 2a02:8109:1234::17",
      statusCode: 400,
    },
  },
  {
    operationId: "getAuthStatus",
    status: 200,
    body: {
      authenticated: true,
      competing: false,
      connected: true,
      message: "",
      MAC: "98:F2:B3:23:BF:A0",
      serverInfo: { serverName: "JifN19053", serverVersion: "Build 10.25.0a, Aug 29, 2023 4:29:57 PM" },
      established: true,
      hardware_info: "21026956|06:8E:04:45:DA:8F",
      fail: "",
    },
  },
];

const all = [...fixtures, ...extra];
const result = redactRecordings(
  all.map((f) => f.body),
  { accountIds: ["TESTACCT9"] },
);
const redacted = all.map((f, i) => ({ ...f, body: result.bodies[i] }));
const byOperation = (id: string) => redacted.filter((f) => f.operationId === id);

describe("redactRecordings", () => {
  it("fed the fixtures with real-looking ids, leaves none of them anywhere in the JSON text", () => {
    const text = JSON.stringify(redacted);
    // The inputs really did carry them (otherwise this test would prove nothing).
    const input = JSON.stringify(all);
    for (const secret of SECRETS) expect(input.includes(secret), `input carries ${secret}`).toBe(true);
    for (const secret of SECRETS) expect(text.includes(secret), `output carries ${secret}`).toBe(false);
    expect(text).not.toMatch(/(?<![A-Za-z0-9])(DU|DF|U|F)(?!0{3})\d{5,}(?![A-Za-z0-9])/);
  });

  it.each(redacted.map((f, i) => [`${f.operationId} #${i}`, f] as const))(
    "%s still validates against its contract schema",
    (_name, fixture) => {
      expect(schemaErrors(fixture.operationId, fixture.status, fixture.body)).toBeNull();
    },
  );

  it("maps one account to one placeholder everywhere: values, keys and inside text", () => {
    const portfolio = byOperation("getPortfolioAccounts")
      .map((f) => f.body as Array<Record<string, unknown>>)
      .find((rows) => rows[0]?.type === "DEMO") as Array<Record<string, unknown>>;
    const paper = portfolio[0]?.accountId as string;
    expect(paper).toMatch(/^DU\d{7}$/);
    expect(portfolio[0]?.id).toBe(paper);
    expect(portfolio[0]?.accountVan).toBe(paper);
    expect(portfolio[0]?.desc).toBe(`${paper} - ${portfolio[0]?.displayName as string}`);
    expect(portfolio[0]?.displayName).toMatch(/^Recorded User \d+$/);

    const positions = byOperation("getPositions").flatMap((f) => f.body as Array<{ acctId: string }>);
    for (const row of positions) expect(row.acctId).toBe(paper);
    const ledger = byOperation("getAccountLedger")[0]?.body as Record<string, { acctcode: string }>;
    expect(ledger.USD?.acctcode).toBe(paper);
    const summary = byOperation("getAccountSummary")[0]?.body as Record<string, { value: unknown }>;
    expect(summary.accountcode?.value).toBe(paper);
    const warm = byOperation("getPartitionedPnl")[1]?.body as { upnl: Record<string, unknown> };
    expect(Object.keys(warm.upnl)).toEqual([`${paper}.Core`]);

    const accounts = byOperation("getBrokerageAccounts").at(-1)?.body as {
      accounts: string[];
      acctProps: Record<string, unknown>;
      aliases: Record<string, string>;
      selectedAccount: string;
      sessionId: string;
    };
    const [live, other] = accounts.accounts as [string, string];
    expect(live).toMatch(/^U\d{7}$/);
    expect(other).toMatch(/^ACCT\d{7}$/);
    expect(Object.keys(accounts.acctProps)).toEqual([live, other]);
    expect(accounts.aliases.All).toBe("All");
    expect(accounts.aliases[live]).toMatch(/^Recorded User \d+$/);
    expect(accounts.aliases[other]).toBe(other);
    expect(accounts.selectedAccount).toBe(live);
    const multiPnl = byOperation("getPartitionedPnl").at(-1)?.body as { upnl: Record<string, unknown> };
    expect(Object.keys(multiPnl.upnl)).toEqual([`${live}.Core`, expect.stringMatching(/^U\d{7}\.Core$/)]);
  });

  it("uses the documented placeholder shapes for users, sessions, hosts and addresses", () => {
    const sso = byOperation("validateSso")[0]?.body as Record<string, unknown>;
    expect(sso.USER_NAME).toMatch(/^recorded_user_\d+$/);
    expect(sso.CREDENTIAL).toBe(sso.USER_NAME);
    expect(sso.PAPER_USER_NAME).toBe(sso.USER_NAME);
    expect(sso.IP).toMatch(/^192\.0\.2\.\d+$/);
    expect(typeof sso.USER_ID).toBe("number");
    const tickle = byOperation("getTickle")[0]?.body as Record<string, unknown>;
    expect(tickle.userId).toBe(sso.USER_ID);
    expect(tickle.session).toMatch(/^recorded-session-\d+$/);
    const trades = byOperation("getTrades").flatMap((f) => f.body as Array<{ submitter: string }>);
    expect(trades[0]?.submitter).toBe(sso.USER_NAME);

    const auth = byOperation("getAuthStatus").at(-1)?.body as Record<string, unknown>;
    expect(auth.MAC).toMatch(/^00:00:5E:00:53:[0-9A-F]{2}$/);
    expect(auth.hardware_info).toMatch(/^recorded-hardware-\d+\|00:00:5E:00:53:[0-9A-F]{2}$/);
    expect((auth.serverInfo as Record<string, unknown>).serverName).toMatch(/^recorded-server-\d+$/);
    // The MAC a tickle reports is the same machine, so it gets the same placeholder.
    const tickleMac = ((tickle.iserver as Record<string, unknown>).authStatus as Record<string, unknown>).MAC;
    expect(tickleMac).toBe(auth.MAC);

    const error = byOperation("getAccountSummary").at(-1)?.body as { error: string };
    expect(error.error).toMatch(
      /^Bad Request: account U\d{7} \(recorded\.user\.\d+@example\.com\) refused from 192\.0\.2\.\d+ and 2001:db8::[0-9a-f]+$/,
    );
  });

  it("leaves market data, contract data and ordinary text alone", () => {
    const text = JSON.stringify(result.bodies);
    for (const kept of [
      '"conid":265598',
      '"conidEx":"265598"',
      "Build 10.37.1c, Oct 21, 2025 3:52:07 PM",
      '"supports_tax_opt":"1"',
      '"option_acct":"c"',
      '"display_name":"Top % Gainers"',
      "APPLE INC",
      "NASDAQ",
      '"ssoExpires":460311',
      "Please query /accounts first",
    ]) {
      expect(text, kept).toContain(kept);
    }
  });

  it("is pure and deterministic", () => {
    const input = all.map((f) => f.body);
    const before = JSON.stringify(input);
    const again = redactRecordings(input, { accountIds: ["TESTACCT9"] });
    expect(JSON.stringify(input)).toBe(before);
    expect(again.bodies).toEqual(result.bodies);
    expect(again.counts).toEqual(result.counts);
  });

  it("numbers accounts in order of appearance, per prefix", () => {
    const body = redactBody({
      accounts: ["DU7777777", "DU5555555", "U9999999", "DF1111111"],
      note: "DU5555555 then DU7777777",
    }) as { accounts: string[]; note: string };
    expect(body.accounts).toEqual(["DU0000001", "DU0000002", "U0000001", "DF0000001"]);
    expect(body.note).toBe("DU0000002 then DU0000001");
  });

  it("replaces a very short original only where its own key holds it", () => {
    const body = redactBody({ accountAlias: "Al", a: "Al", b: "Al is here" }) as Record<string, string>;
    expect(body.accountAlias).toMatch(/^Recorded User \d+$/);
    expect(body.a).toBe("Al");
    expect(body.b).toBe("Al is here");
  });
});
