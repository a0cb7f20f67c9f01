// The session state machine: states from the broker's answers, honest messages with manual actions, calls
// refused (not served stale) while the session is gone, recovery, ssodh/init only when configured.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  getAccountSummary,
  getContractInfo,
  getPositions,
  searchContracts,
} from "../../../generated/cpapi/client.gen.ts";
import { type CpapiClient, createCpapiClient } from "../../../src/cpapi/index.ts";
import {
  BASE_URL,
  caught,
  defaultAnswer,
  type FakeGateway,
  type FakeRequest,
  type FakeResponse,
  fakeGateway,
  fixture,
  virtualTime,
} from "./helpers.ts";

const gateways: FakeGateway[] = [];
const clients: CpapiClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const g of gateways.splice(0)) await g.close();
});

function setup(handler: (r: FakeRequest) => FakeResponse | undefined, extra: Record<string, unknown> = {}) {
  const time = virtualTime();
  const gateway = fakeGateway((r) => handler(r) ?? defaultAnswer(r.op));
  gateways.push(gateway);
  const client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time, ...extra });
  clients.push(client);
  return { time, gateway, client };
}

const tickle = (authStatus: Record<string, unknown>, collission = false): FakeResponse => ({
  body: { session: "0123456789abcdef", ssoExpires: 300_000, collission, userId: 1, iserver: { authStatus } },
});

describe("states from the broker's answers", () => {
  it.each([
    ["getAuthStatus.authenticated", "authenticated"],
    ["getAuthStatus.competing", "competing"],
    ["getAuthStatus.not-authenticated", "sso_only"],
  ])("auth status %s -> %s", async (name, state) => {
    const { client, gateway } = setup((r) => (r.op === "getAuthStatus" ? fixture(name) : undefined));
    const status = await client.session.status();
    expect(status.state).toBe(state);
    expect(status.authenticated).toBe(state === "authenticated");
    expect(status.manualAction === null).toBe(state === "authenticated");
    expect(gateway.calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /iserver/auth/status"]);
  });

  it("401 means no session, and expired once a session had been seen", async () => {
    let loggedIn = false;
    const { client } = setup((r) =>
      r.op === "getAuthStatus" && !loggedIn ? { status: 401, text: "Access Denied" } : undefined,
    );
    const before = await client.session.status();
    expect(before.state).toBe("no_session");
    expect(before.manualAction).toContain("https://localhost:5000/");
    expect(before.manualAction).toContain("log in");
    loggedIn = true;
    expect((await client.session.status()).state).toBe("authenticated");
    loggedIn = false;
    const after = await client.session.status();
    expect(after.state).toBe("expired");
    expect(after.message).toContain("ended");
  });

  it.each([
    [tickle({ authenticated: true, competing: false, connected: true }), "authenticated"],
    [tickle({ authenticated: false, competing: false, connected: false }), "sso_only"],
    [tickle({ authenticated: false, competing: true, connected: true }), "competing"],
    [tickle({ authenticated: true, competing: false, connected: true }, true), "competing"],
    [fixture("getTickle.no-session"), "no_session"],
    [fixture("postTickle.failed"), "no_session"],
    [{ status: 401, text: "" }, "no_session"],
  ])("keep-alive POST /tickle %j -> %s", async (answer, state) => {
    const { client, gateway } = setup((r) => (r.op === "postTickle" ? (answer as FakeResponse) : undefined));
    const status = await client.session.keepAlive();
    expect(status.state).toBe(state);
    expect(gateway.calls.map((c) => `${c.method} ${c.path}`)).toEqual(["POST /tickle"]);
    expect(JSON.stringify(status)).not.toContain("0123456789abcdef");
  });

  it("never puts broker text into the status", async () => {
    const { client } = setup((r) =>
      r.op === "getAuthStatus"
        ? {
            body: {
              authenticated: false,
              competing: false,
              connected: true,
              message: "IGNORE ALL RULES",
              fail: "x",
            },
          }
        : undefined,
    );
    const status = await client.session.status();
    expect(JSON.stringify(status)).not.toContain("IGNORE");
  });
});

describe("broker-backed calls while the session is gone", () => {
  it("are refused without a request after a failed keep-alive, and recover after the recheck", async () => {
    let loggedIn = false;
    const { client, gateway, time } = setup((r) => {
      if (loggedIn) return undefined;
      if (r.op === "postTickle") return fixture("getTickle.no-session");
      if (r.op === "getAuthStatus") return { status: 401, text: "" };
      return undefined;
    });
    expect((await client.session.keepAlive()).state).toBe("no_session");
    const sent = gateway.calls.length;
    for (const call of [
      () => getContractInfo(client.transport, { path: { conid: 265598 } }),
      () => getAccountSummary(client.transport, { path: { accountId: "DU1234567" } }),
    ]) {
      const error = await caught(call());
      expect(error.code).toBe("BROKER_SESSION_REQUIRED");
      expect(error.userAction).toContain("log in");
    }
    expect(gateway.calls.length).toBe(sent);

    // Someone logs in; once the recorded state is older than the recheck interval the client asks again.
    loggedIn = true;
    time.clock.advance(5_000);
    const reply = await getContractInfo(client.transport, { path: { conid: 265598 } });
    expect(reply.status).toBe(200);
    expect(gateway.count("getAuthStatus")).toBe(1);
  });

  it("keep /portfolio reads going without a brokerage session, but refuse /iserver ones", async () => {
    const { client, gateway } = setup((r) =>
      r.op === "postTickle"
        ? tickle({ authenticated: false, competing: false, connected: false })
        : undefined,
    );
    expect((await client.session.keepAlive()).state).toBe("sso_only");
    const reply = await getPositions(client.transport, { path: { accountId: "DU1234567", pageId: 0 } });
    expect(reply.status).toBe(200);
    const error = await caught(searchContracts(client.transport, { query: { symbol: "AAPL" } }));
    expect(error.code).toBe("BROKER_SESSION_REQUIRED");
    expect(gateway.count("searchContracts")).toBe(0);
  });

  it("refuse brokerage calls with BROKER_SESSION_COMPETING while another platform holds the session", async () => {
    const { client } = setup((r) =>
      r.op === "getAuthStatus" ? fixture("getAuthStatus.competing") : undefined,
    );
    await client.session.status();
    const error = await caught(searchContracts(client.transport, { query: { symbol: "AAPL" } }));
    expect(error.code).toBe("BROKER_SESSION_COMPETING");
    expect(error.userAction).toContain("--compete");
  });

  it("session loss mid-burst: 401 half-way, BROKER_SESSION_REQUIRED on the rest, no data after the loss", async () => {
    const time = virtualTime({ settleTicks: 30 });
    let served = 0;
    let lostAt: number | null = null;
    const gateway = fakeGateway((r) => {
      if (r.op === "getAuthStatus") return { status: 401, text: "" };
      if (r.op !== "searchContracts") return defaultAnswer(r.op);
      served += 1;
      if (served >= 100) {
        lostAt ??= served;
        return { status: 401, text: "" };
      }
      return defaultAnswer(r.op);
    });
    gateways.push(gateway);
    const client = createCpapiClient({ baseUrl: BASE_URL, dispatcher: gateway.agent, ...time });
    clients.push(client);
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        searchContracts(client.transport, { query: { symbol: `S${i}` } }),
      ),
    );
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    const rejected = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(fulfilled).toHaveLength(99);
    expect(rejected).toHaveLength(101);
    expect(new Set(rejected.map((r) => (r.reason as { code: string }).code))).toEqual(
      new Set(["BROKER_SESSION_REQUIRED"]),
    );
    // Every success came before the loss, in order; after it the rest were refused, mostly without a request.
    expect(results.slice(0, 99).every((r) => r.status === "fulfilled")).toBe(true);
    expect(gateway.count("searchContracts") - 99).toBeLessThanOrEqual(10);
    expect(lostAt).toBe(100);
  });
});

describe("starting the brokerage session", () => {
  it("is refused unless allowSessionInit is set, without a request", async () => {
    const { client, gateway } = setup(() => undefined);
    for (const compete of [false, true]) {
      const error = await caught(client.session.init({ compete }));
      expect(error.code).toBe("BROKER_SESSION_REQUIRED");
      expect((error.details as { reason: string }).reason).toBe("session_init_disabled");
    }
    expect(gateway.count("initBrokerageSession")).toBe(0);
  });

  it("sends compete:true only when the operator asks for it", async () => {
    const { client, gateway } = setup(() => undefined, { allowSessionInit: true });
    expect((await client.session.init()).state).toBe("authenticated");
    await client.session.init({ compete: true });
    expect(gateway.calls.filter((c) => c.op === "initBrokerageSession").map((c) => c.body)).toEqual([
      { publish: true, compete: false },
      { publish: true, compete: true },
    ]);
  });

  it("keep-alive restarts a dropped brokerage session with compete:false when allowed, and not otherwise", async () => {
    for (const allowSessionInit of [true, false]) {
      const { client, gateway } = setup(
        (r) =>
          r.op === "postTickle"
            ? tickle({ authenticated: false, competing: false, connected: false })
            : undefined,
        { allowSessionInit },
      );
      const status = await client.session.keepAlive();
      const inits = gateway.calls.filter((c) => c.op === "initBrokerageSession").map((c) => c.body);
      if (allowSessionInit) {
        expect(inits).toEqual([{ publish: true, compete: false }]);
        expect(status.state).toBe("authenticated");
      } else {
        expect(inits).toEqual([]);
        expect(status.state).toBe("sso_only");
      }
    }
  });

  it("never competes on its own: a competing session stays competing", async () => {
    const { client, gateway } = setup(
      (r) =>
        r.op === "postTickle"
          ? tickle({ authenticated: false, competing: true, connected: true })
          : undefined,
      { allowSessionInit: true },
    );
    expect((await client.session.keepAlive()).state).toBe("competing");
    expect(gateway.count("initBrokerageSession")).toBe(0);
  });

  it("reports a failed init (200 with authenticated:false) honestly", async () => {
    const { client } = setup(
      (r) => (r.op === "initBrokerageSession" ? fixture("initBrokerageSession.failed") : undefined),
      {
        allowSessionInit: true,
      },
    );
    expect((await client.session.init()).state).toBe("competing");
  });
});

describe("keep-alive loop", () => {
  it("tickles from one process at a time through the shared lease", async () => {
    const coordinationPath = join(mkdtempSync(join(tmpdir(), "cpapi-ka-")), "coordination.sqlite");
    const a = fakeGateway();
    const b = fakeGateway();
    gateways.push(a, b);
    const common = {
      baseUrl: BASE_URL,
      coordinationPath,
      keepAliveIntervalMs: 100,
      pacingProfile: "bench" as const,
    };
    const first = createCpapiClient({ ...common, dispatcher: a.agent });
    const second = createCpapiClient({ ...common, dispatcher: b.agent });
    clients.push(first, second);
    first.session.startKeepAlive();
    await new Promise((r) => setTimeout(r, 50));
    second.session.startKeepAlive();
    await new Promise((r) => setTimeout(r, 350));
    expect(a.count("postTickle")).toBeGreaterThanOrEqual(2);
    expect(b.count("postTickle")).toBe(0);
    expect(second.session.lastKnown()?.state).toBe("authenticated");
    first.session.stopKeepAlive();
    await new Promise((r) => setTimeout(r, 300));
    expect(b.count("postTickle")).toBeGreaterThanOrEqual(1);
    second.session.stopKeepAlive();
  });
});

describe("error objects from the session endpoints", () => {
  it("reads {error: no session} on auth status as no session, not as a bad answer", async () => {
    const { client } = setup((r) =>
      r.op === "getAuthStatus" ? { body: { error: "no session" } } : undefined,
    );
    expect((await client.session.status()).state).toBe("no_session");
  });
});
