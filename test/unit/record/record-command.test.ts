// `ibkr-agent record` end to end: the HTTPS simulator in this process, the CLI as a spawned process pinning the
// simulator's certificate. Every expected file is written in fixture format, validates against its
// operation's schema for its status, carries none of the simulator's identifying values, and nothing but
// GET requests reached the gateway.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CPAPI_OPERATIONS, type CpapiOperationId } from "../../../generated/cpapi/operations.gen.ts";
import { createSimulator, type SimulatorServer } from "../../../src/simulator/index.ts";
import { cli, type RunResult } from "../../support/run.ts";

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addKeyword("x-untrusted");

const EXPECTED_FILES = [
  "getAuthStatus.recorded-session.json",
  "getTickle.recorded-session.json",
  "validateSso.recorded-session.json",
  "getBrokerageAccounts.recorded-session.json",
  "getPortfolioAccounts.recorded-session.json",
  "getAccountMeta.recorded-account.json",
  "getAccountSummary.recorded-account.json",
  "getAccountLedger.recorded-account.json",
  "getPositions.recorded-page0.json",
  "getPartitionedPnl.recorded-account.json",
  "getLiveOrders.recorded-account.json",
  "getTrades.recorded-1day.json",
  "searchContracts.recorded-aapl.json",
  "getContractInfo.recorded-aapl.json",
  "getStocksBySymbol.recorded-aapl.json",
  "getMarketSnapshot.recorded-aapl.json",
  "getHistory.recorded-aapl-1w-1d.json",
  "getExchangeRate.recorded-usd-eur.json",
  "getTradingSchedule.recorded-aapl.json",
  "getOptionStrikes.recorded-aapl-nearest.json",
].sort();

const WRITES = [
  "placeOrders",
  "modifyOrder",
  "cancelOrder",
  "replyToQuestion",
  "answerNotification",
  "whatIfOrder",
  "initBrokerageSession",
  "logout",
  "invalidatePositions",
  "switchAccount",
  "suppressQuestions",
  "resetSuppressedQuestions",
  "unsubscribeMarketData",
  "unsubscribeAllMarketData",
  "postTickle",
  "postAuthStatus",
];

describe("ibkr-agent record against the HTTPS simulator", () => {
  const sim = createSimulator({ pacing: "bench" });
  let server: SimulatorServer;
  let dir: string;
  let certFile: string;
  let session: string;
  let result: RunResult;
  let jsonResult: RunResult;

  beforeAll(async () => {
    server = await sim.serve({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), "ibkr-record-"));
    certFile = join(dir, "gateway.pem");
    writeFileSync(certFile, server.certificatePem);
    // The session id the simulator hands out, read the way any client would.
    const agent = new Agent({ connect: { ca: server.certificatePem } });
    const tickle = await request(`${server.baseUrl}/tickle`, { dispatcher: agent });
    session = ((await tickle.body.json()) as { session: string }).session;
    await agent.close();
    sim.control.clearRequests();
    result = await cli([
      "record",
      "--out",
      join(dir, "out"),
      "--base-url",
      server.baseUrl,
      "--ca-file",
      certFile,
    ]);
    jsonResult = await cli([
      "record",
      "--json",
      "--out",
      join(dir, "out-json"),
      "--base-url",
      server.baseUrl,
      "--ca-file",
      certFile,
    ]);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("finishes and prints the summary table", () => {
    expect(result.stderr).toContain("x-ibkr-simulator");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/OPERATION\s+STATUS\s+FILE/);
    for (const file of EXPECTED_FILES) expect(result.stdout).toContain(file);
    expect(result.stdout).toContain("Account recorded as DU0000001.");
  });

  it("writes every expected file (plus the pre-flight answers) in fixture format", () => {
    const files = readdirSync(join(dir, "out")).sort();
    for (const file of EXPECTED_FILES) expect(files).toContain(file);
    expect(files).toContain("getMarketSnapshot.recorded-preflight.json");
    for (const file of files) {
      const fixture = JSON.parse(readFileSync(join(dir, "out", file), "utf8")) as Record<string, unknown>;
      expect(Object.keys(fixture)).toEqual(["operationId", "status", "body"]);
      expect(file.startsWith(`${fixture.operationId as string}.recorded-`)).toBe(true);
    }
  });

  it("writes files that validate against their operation's schema for their status", () => {
    for (const file of readdirSync(join(dir, "out"))) {
      const fixture = JSON.parse(readFileSync(join(dir, "out", file), "utf8")) as {
        operationId: CpapiOperationId;
        status: number;
        body: unknown;
      };
      const schema = (CPAPI_OPERATIONS[fixture.operationId].responses as Record<string, unknown>)[
        String(fixture.status)
      ];
      expect(schema, `${file}: status ${fixture.status} declared`).toBeDefined();
      const validate = ajv.compile(schema as object);
      expect(validate(fixture.body), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("leaves no account id, user, name or session id of the simulator in any file", () => {
    expect(session).toMatch(/simulated/);
    for (const file of readdirSync(join(dir, "out"))) {
      const text = readFileSync(join(dir, "out", file), "utf8");
      for (const secret of ["DU1234567", session, "simuser01", "Simulated Paper Trader", "JifN00000"]) {
        expect(text.includes(secret), `${file} carries ${secret}`).toBe(false);
      }
    }
    const accounts = JSON.parse(
      readFileSync(join(dir, "out", "getBrokerageAccounts.recorded-session.json"), "utf8"),
    ) as { body: { accounts: string[] } };
    expect(accounts.body.accounts).toEqual(["DU0000001"]);
  });

  it("sent nothing but GET requests to the gateway", () => {
    const requests = sim.control.requests();
    expect(requests.length).toBeGreaterThan(20);
    expect(requests.filter((r) => r.method !== "GET")).toEqual([]);
    for (const id of WRITES) expect(sim.control.count(id), id).toBe(0);
  });

  it("with --json prints one machine-readable summary, still warning on stderr", () => {
    expect(jsonResult.code, jsonResult.stderr).toBe(0);
    expect(jsonResult.stderr).toContain("x-ibkr-simulator");
    const summary = JSON.parse(jsonResult.stdout) as {
      simulated: boolean;
      account: string;
      calls: Array<{ operation_id: string; status: number | null; file: string | null }>;
    };
    expect(summary.simulated).toBe(true);
    expect(summary.account).toBe("DU0000001");
    expect(summary.calls.filter((c) => c.file !== null).map((c) => c.file)).toEqual(
      expect.arrayContaining(EXPECTED_FILES),
    );
    expect(summary.calls.every((c) => c.status === 200)).toBe(true);
    expect(jsonResult.stdout).not.toContain("DU1234567");
  });
});

describe("ibkr-agent record without a gateway", () => {
  it("stops with the client's error when nothing answers, and writes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ibkr-record-none-"));
    try {
      // Port 9 (discard) on loopback: nothing listens there in a test environment.
      const run = await cli([
        "record",
        "--json",
        "--out",
        join(dir, "out"),
        "--base-url",
        "https://127.0.0.1:9/v1/api",
        "--allow-insecure-tls-for-localhost",
      ]);
      expect(run.code).not.toBe(0);
      expect(JSON.parse(run.stdout).error.code).toBe("BROKER_BACKEND_UNAVAILABLE");
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses the TLS bypass for a host that is not loopback", async () => {
    const run = await cli([
      "record",
      "--json",
      "--out",
      join(tmpdir(), "never-written"),
      "--base-url",
      "https://gateway.example.com:5000/v1/api",
      "--allow-insecure-tls-for-localhost",
    ]);
    expect(JSON.parse(run.stdout).error.code).toBe("CONFIG_TLS_BYPASS_NON_LOCALHOST");
  });
});
