// The sidecar relay end to end with real processes, as docs/sidecar.md sets it up on two terminals: a real
// oidc-provider issues RS256 JWTs; the remote gateway (`mcp serve --transport http`, broker.backend relay,
// TLS) checks them and routes each call over the relay; the sidecar (`sidecar run`) connects out over wss
// and runs the calls on its own gateway against the HTTPS simulator. Pairing goes through the CLI on both
// profiles (the approval at a terminal with the PIN). An MCP SDK client then lists and calls read tools and
// the paper order steps. One chain serves the whole file and the faults run on it in order: a sidecar killed
// mid-order, the remote dropping every connection, a silent sidecar, unsafe payloads, an oversized frame, an
// unpaired key and, last, a revoked pairing. Afterwards neither side's store nor any log holds a token, a
// secret, the broker's session or a raw account id.
import { generateKeyPairSync } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import { sidecarIdOf } from "../../src/sidecar/identity.ts";
import { createChannel, rawPublicKey, splitFrame } from "../../src/sidecar/protocol/index.ts";
import { PAPER_ACCOUNT } from "../support/orders.ts";
import {
  brokerSessionToken,
  callTool,
  HEARTBEAT,
  OPERATOR_PIN,
  okTool,
  type PairingFacts,
  PROCESS_SECRETS,
  type RelayChain,
  startRelayChain,
  waitUntil,
} from "../support/relay-e2e.ts";

let chain: RelayChain;
let pairing: PairingFacts;
let client: Client;
/** Values the arguments of refused calls carried; the scan checks that they stayed out of stores and logs. */
const REFUSED_VALUES = {
  bearer: "Bearer rAnd0mOpaqueT0kenValue4f2a9c1e7b3d5a8f0c2e4",
  cookie: "cookie:JSESSIONID.9Xq2LmV7Tz",
};

const ORDER = {
  account_id: PAPER_ACCOUNT,
  symbol: "AAPL",
  side: "buy",
  order_type: "limit",
  limit_price: "265",
  time_in_force: "day",
};

/** Preview and approve an order of this quantity over MCP; returns the approval id. */
async function approvedOrder(quantity: string): Promise<string> {
  const preview = await okTool(client, "ibkr_order_preview", { ...ORDER, quantity });
  expect(preview).toMatchObject({ order_sent: false, risk: { decision: "accepted" } });
  const approval = await okTool(client, "ibkr_approvals_create", {
    account_id: PAPER_ACCOUNT,
    preview_id: preview.preview_id,
  });
  expect(approval).toMatchObject({ status: "approved", approved_by: "agent" });
  return String(approval.approval_id);
}

/** The broker's orders of one quantity (each case orders its own quantity). */
async function brokerOrders(quantity: number) {
  return (await chain.wire.orders()).filter((order) => order.quantity === quantity);
}

/** The JSON documents a --json process printed one after the other (each pretty-printed). */
function jsonDocuments(text: string): Record<string, unknown>[] {
  return text
    .split(/\n(?=\{)/)
    .filter((part) => part.trim() !== "")
    .map((part) => JSON.parse(part) as Record<string, unknown>);
}

function toolCalls(events: ReturnType<RelayChain["remoteEvents"]>, tool: string) {
  return events.filter((event) => event.event_type === "tool_call" && event.tool === tool);
}

/** The state of the remote's latest relay session, from its audit events (open, or closed and why). */
function remoteSessionState(): string | undefined {
  const closed = chain.remoteEvents("relay_session_closed").at(-1);
  const opened = chain.remoteEvents("relay_session_opened").at(-1);
  if (opened === undefined) return undefined;
  return closed !== undefined && closed.metadata.relay_session_id === opened.metadata.relay_session_id
    ? `closed:${String(closed.metadata.reason)}`
    : "open";
}

beforeAll(async () => {
  chain = await startRelayChain();
  await chain.startRemote();
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await chain?.close();
});

describe("pairing and a first session", () => {
  it("pairs through the CLI on both machines: code, claim, fingerprints compared, approval with the PIN", async () => {
    // docs/sidecar.md: each machine checks its configuration first.
    for (const run of [
      await chain.remoteCli(["config", "validate", "--json"]),
      await chain.sidecarCli(["config", "validate", "--json"]),
    ])
      expect(run.code, run.stdout).toBe(0);
    pairing = await chain.pair();
    const { create, pair, approve } = pairing.outputs;
    expect(JSON.parse(create.stdout)).toMatchObject({ pairing: { status: "pending", attempts: 0 } });
    expect(pair.stdout).toContain(`Claimed pairing ${pairing.pairingId} at ${chain.relayUrl}.`);
    expect(pair.stdout).toContain(`Remote gateway's fingerprint: ${pairing.remoteFingerprint}`);
    expect(approve.output).toContain(`Approved ${pairing.pairingId}:`);
    expect(approve.output).not.toContain(OPERATOR_PIN);

    const listed = JSON.parse((await chain.remoteCli(["sidecar", "pairing", "list", "--json"])).stdout) as {
      pairings: { pairing_id: string; status: string; fingerprint: string }[];
    };
    expect(listed.pairings.map((p) => [p.pairing_id, p.status, p.fingerprint])).toEqual([
      [pairing.pairingId, "active", pairing.sidecarFingerprint],
    ]);
  });

  it("`sidecar run` connects out over wss and both sides' status shows the session", async () => {
    const sidecar = await chain.startSidecar();
    const status = await sidecar.connected();
    expect(status).toMatchObject({
      state: "connected",
      remote_url: chain.relayUrl.replace("https:", "wss:"),
      last_error: null,
    });
    expect(status.relay_session_id).toMatch(/^relay-[0-9a-f-]{36}$/);
    // What `sidecar run --json` printed first names this sidecar and what it accepts.
    const [first] = jsonDocuments(sidecar.stdout());
    expect(first).toMatchObject({
      state: "starting",
      fingerprint: pairing.sidecarFingerprint,
      accepted_tiers: ["read", "preview", "paper"],
    });

    const local = JSON.parse((await chain.sidecarCli(["sidecar", "status", "--json"])).stdout);
    expect(local).toMatchObject({
      role: "sidecar",
      identity: { fingerprint: pairing.sidecarFingerprint },
      pairing: {
        pairing_id: pairing.pairingId,
        status: "active",
        remote_fingerprint: pairing.remoteFingerprint,
      },
      relay: { state: "connected", relay_session_id: status.relay_session_id, alive: true },
    });
    const remote = JSON.parse((await chain.remoteCli(["sidecar", "status", "--json"])).stdout);
    expect(remote).toMatchObject({
      role: "remote",
      identity: { fingerprint: pairing.remoteFingerprint },
      relay_sessions: [
        { pairing_id: pairing.pairingId, state: "connected", relay_session_id: status.relay_session_id },
      ],
    });
  });
});

describe("an MCP client on the remote uses the account on the sidecar", () => {
  it("lists the tools its token and the remote allow", async () => {
    client = await chain.client();
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    for (const name of [
      "ibkr_accounts_list",
      "ibkr_health",
      "ibkr_positions_list",
      "ibkr_order_preview",
      "ibkr_approvals_create",
      "ibkr_paper_order_submit",
    ])
      expect(tools).toContain(name);
    // Nothing the token or remote_mcp.allowed_scopes leaves out.
    expect(tools).not.toContain("ibkr_live_order_submit");
    expect(tools).not.toContain("ibkr_audit_export");
  });

  it("calls read tools: they run on the sidecar's broker, and both sides audit one call alike", async () => {
    const accounts = await okTool(client, "ibkr_accounts_list");
    expect(accounts).toMatchObject({
      accounts: [{ account_id: PAPER_ACCOUNT }],
      source: { backend: "client_portal_gateway" },
    });
    const health = await okTool(client, "ibkr_health");
    expect(health).toMatchObject({ status: "ok" });

    const [remoteCall] = toolCalls(chain.remoteEvents(), "ibkr_accounts_list");
    const [sidecarCall] = toolCalls(chain.sidecarEvents(), "ibkr_accounts_list");
    expect(remoteCall).toMatchObject({
      front_door: "mcp_http",
      decision: "allow",
      metadata: { relay_side: "remote" },
    });
    expect(remoteCall?.principal).toMatch(/^oauth:[0-9a-f]{64}$/);
    expect(sidecarCall).toMatchObject({
      front_door: "relay",
      decision: "allow",
      request_id: remoteCall?.request_id,
      metadata: { relay_side: "sidecar", payload_hash: remoteCall?.metadata.payload_hash },
    });
    expect(sidecarCall?.principal).toMatch(/^relay:sidecar[-:][0-9a-f-]{36}$/);
    expect(remoteCall?.metadata.payload_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("runs preview -> approve -> paper submit -> replay on the sidecar: one broker order", async () => {
    const approvalId = await approvedOrder("10");
    const args = { account_id: PAPER_ACCOUNT, approval_id: approvalId, idempotency_key: "relay-e2e-001" };
    const submit = await okTool(client, "ibkr_paper_order_submit", args);
    expect(submit).toMatchObject({
      mode: "paper",
      writer: "broker",
      replayed: false,
      order: { symbol: "AAPL", side: "buy", quantity: "10", limit_price: "265" },
    });
    const replay = await okTool(client, "ibkr_paper_order_submit", args);
    expect(replay).toMatchObject({ replayed: true, broker_order_id: submit.broker_order_id });
    expect(await brokerOrders(10)).toHaveLength(1);
    // The preview, the approval and the idempotency record live on the sidecar; the remote only routed.
    const sidecarEvents = chain.sidecarEvents().map((event) => event.event_type);
    for (const type of [
      "order_preview_created",
      "approval_created",
      "order_submitted",
      "idempotency_replayed",
    ])
      expect(sidecarEvents).toContain(type);
    const remoteTypes: string[] = chain.remoteEvents().map((event) => event.event_type);
    for (const type of ["order_preview_created", "approval_created", "order_submitted"])
      expect(remoteTypes).not.toContain(type);
  });
});

describe("faults with real processes", () => {
  it.each([
    { point: "after_broker_accepted", quantity: 3, placedBeforeCrash: true },
    { point: "before_pending", quantity: 4, placedBeforeCrash: false },
  ])(
    "sidecar killed (SIGKILL) mid-submit at $point: the call fails cleanly, the retry with the same key places exactly once",
    async ({ point, quantity, placedBeforeCrash }) => {
      const approvalId = await approvedOrder(String(quantity));
      await chain.sidecar?.signal("SIGTERM");
      const crashing = await chain.startSidecar({ IBKR_AGENT_CRASH_AT: point });
      const crashSession = (await crashing.connected()).relay_session_id;
      const args = {
        account_id: PAPER_ACCOUNT,
        approval_id: approvalId,
        idempotency_key: `relay-e2e-${point}`,
      };

      const failed = await callTool(client, "ibkr_paper_order_submit", args);
      expect(failed.isError).toBe(true);
      expect(failed.error).toMatchObject({ code: "SIDECAR_UNAVAILABLE", retryable: true });
      expect(failed.error.user_action).toContain("same idempotency key");
      expect(toolCalls(chain.remoteEvents(), "ibkr_paper_order_submit").at(-1)).toMatchObject({
        error_code: "SIDECAR_UNAVAILABLE",
        metadata: { relay_side: "remote" },
      });
      expect(await crashing.exited).toEqual({ code: null, signal: "SIGKILL" });
      expect(await brokerOrders(quantity)).toHaveLength(placedBeforeCrash ? 1 : 0);

      const restarted = await chain.startSidecar();
      await restarted.connected(crashSession);
      const retried = await okTool(client, "ibkr_paper_order_submit", args);
      expect(retried).toMatchObject({ mode: "paper", replayed: placedBeforeCrash });
      const orders = await brokerOrders(quantity);
      expect(orders).toHaveLength(1);
      expect(String(retried.broker_order_id)).toBe(String(orders[0]?.order_id));
      const again = await okTool(client, "ibkr_paper_order_submit", args);
      expect(again).toMatchObject({ replayed: true, broker_order_id: retried.broker_order_id });
      expect(await brokerOrders(quantity)).toHaveLength(1);
    },
  );

  it("network drop: the remote dies and comes back; the daemon reconnects with back-off and calls work again", async () => {
    const sidecar = chain.sidecar;
    if (sidecar === undefined) throw new Error("no sidecar");
    const before = await sidecar.connected();
    await chain.stopRemote("SIGKILL");
    await client.close().catch(() => undefined);
    // Nobody answers: the daemon waits its turn in the back-off rather than spinning.
    const waiting = await waitUntil("the daemon to back off", () => {
      const s = chain.status();
      return s !== null && s.state === "backoff" && s.last_error?.code === "SIDECAR_UNAVAILABLE"
        ? s
        : undefined;
    });
    expect(waiting.relay_session_id).toBeNull();
    await chain.startRemote();
    const after = await sidecar.connected(before.relay_session_id);
    expect(after.reconnects).toBeGreaterThan(before.reconnects);
    client = await chain.client();
    expect(await okTool(client, "ibkr_health")).toMatchObject({ status: "ok" });
  });

  it(`heartbeat silence: a stopped sidecar is marked unavailable after ${HEARTBEAT.timeout} s, and recovers when it resumes`, async () => {
    const sidecar = chain.sidecar;
    if (sidecar === undefined) throw new Error("no sidecar");
    const before = await sidecar.connected();
    await sidecar.signal("SIGSTOP");
    try {
      const closed = await waitUntil("the remote to end the silent session", () =>
        remoteSessionState() === "closed:heartbeat_timeout" ? true : undefined,
      );
      expect(closed).toBe(true);
      const refused = await callTool(client, "ibkr_health");
      expect(refused.error).toMatchObject({ code: "SIDECAR_UNAVAILABLE", retryable: true });
      // Marked unavailable no earlier than the timeout after the last thing the sidecar sent.
      const status = JSON.parse((await chain.remoteCli(["sidecar", "status", "--json"])).stdout) as {
        relay_sessions: { state: string; last_heartbeat_at: string; updated_at: string }[];
      };
      const [session] = status.relay_sessions;
      expect(session?.state).toBe("closed");
      const silence = Date.parse(session?.updated_at ?? "") - Date.parse(session?.last_heartbeat_at ?? "");
      // (Both times are whole seconds, so a silence just past the timeout shows as exactly the timeout.)
      expect(silence).toBeGreaterThanOrEqual(HEARTBEAT.timeout * 1000);
      // ...and no later than one sweep (every second) after it, with room for a busy machine.
      expect(silence).toBeLessThan((HEARTBEAT.timeout + 5) * 1000);
    } finally {
      await sidecar.signal("SIGCONT");
    }
    await sidecar.connected(before.relay_session_id);
    expect(await okTool(client, "ibkr_health")).toMatchObject({ status: "ok" });
  });

  it("a payload carrying a token or a cookie is refused before it is forwarded (SIDECAR_PAYLOAD_REFUSED)", async () => {
    const ranBefore = chain.sidecarEvents("tool_call").length;
    const bearer = await callTool(client, "ibkr_contracts_search", { query: REFUSED_VALUES.bearer });
    expect(bearer.error).toMatchObject({
      code: "SIDECAR_PAYLOAD_REFUSED",
      details: { side: "remote", unsafe_key_path: "arguments.query", reason: "secret" },
    });
    const approvalId = await approvedOrder("5");
    const cookie = await callTool(client, "ibkr_paper_order_submit", {
      account_id: PAPER_ACCOUNT,
      approval_id: approvalId,
      idempotency_key: REFUSED_VALUES.cookie,
    });
    expect(cookie.error).toMatchObject({
      code: "SIDECAR_PAYLOAD_REFUSED",
      details: { side: "remote", unsafe_key_path: "arguments.idempotency_key" },
    });
    // Only the preview and the approval reached the sidecar; neither refused call did.
    expect(chain.sidecarEvents("tool_call").length).toBe(ranBefore + 2);
    expect(await brokerOrders(5)).toHaveLength(0);
    const refused = chain
      .remoteEvents("tool_call")
      .filter((event) => event.error_code === "SIDECAR_PAYLOAD_REFUSED")
      .map((event) => [event.tool, event.metadata.unsafe_key_path]);
    expect(refused).toEqual([
      ["ibkr_contracts_search", "arguments.query"],
      ["ibkr_paper_order_submit", "arguments.idempotency_key"],
    ]);
  });

  it("an oversized frame closes the connection with 1009 before it is read; the sidecar's session is untouched", async () => {
    const session = chain.status()?.relay_session_id;
    const ws = await chain.relaySocket();
    const closed = new Promise<number>((done) => ws.on("close", (code) => done(code)));
    ws.send("x".repeat(1024 * 1024 + 1));
    expect(await closed).toBe(1009);
    await waitUntil("the refusal to be audited", () =>
      chain.remoteEvents("relay_session_refused").some((event) => event.metadata.check === "too_large")
        ? true
        : undefined,
    );
    expect(chain.status()?.relay_session_id).toBe(session);
    expect(await okTool(client, "ibkr_health")).toMatchObject({ status: "ok" });
  });

  it("an unpaired key is refused at hello (close 4401, SIDECAR_PAIRING_REQUIRED)", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const raw = rawPublicKey(publicKey);
    const channel = createChannel({
      self: "sidecar",
      privateKey,
      clock: systemClock,
      maxMessageBytes: 1024 * 1024,
      maxClockSkewMs: 30_000,
    });
    const ws = await chain.relaySocket();
    const frames: string[] = [];
    ws.on("message", (data: Buffer) => frames.push(data.toString()));
    const closed = new Promise<number>((done) => ws.on("close", (code) => done(code)));
    ws.send(channel.seal("hello", { sidecar_key: raw, sidecar_id: sidecarIdOf(raw), nonce: "e2e-nonce-1" }));
    expect(await closed).toBe(4401);
    expect(
      frames.map((frame) => {
        const envelope = JSON.parse(splitFrame(frame)?.text ?? "{}") as {
          type?: string;
          body?: { code?: string };
        };
        return [envelope.type, envelope.body?.code];
      }),
    ).toEqual([["error", "SIDECAR_PAIRING_REQUIRED"]]);
    await waitUntil("the refusal to be audited", () =>
      chain.remoteEvents("relay_session_refused").some((event) => event.metadata.check === "pairing_required")
        ? true
        : undefined,
    );
  });

  it("a pairing revoked on the remote ends the session; the user's calls are refused", async () => {
    const revoked = await chain.remoteCli([
      "sidecar",
      "pairing",
      "revoke",
      pairing.pairingId,
      "--reason",
      "e2e: laptop lost",
      "--json",
    ]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ changed: true, pairing: { status: "revoked" } });
    // The remote ends the session; the daemon hears why, ends its own record and stops for good.
    const sidecar = chain.sidecar;
    expect(await sidecar?.exited).toEqual({ code: 1, signal: null });
    const documents = jsonDocuments(sidecar?.stdout() ?? "");
    expect(documents).toHaveLength(2);
    expect(documents[1]).toMatchObject({ error: { code: "SIDECAR_SESSION_INVALID", retryable: false } });
    expect(chain.status()).toMatchObject({ state: "stopped", relay_session_id: null });
    const local = JSON.parse((await chain.sidecarCli(["sidecar", "status", "--json"])).stdout);
    expect(local.pairing).toBeNull();
    expect(chain.sidecarEvents("relay_pairing_revoked").map((event) => event.metadata.revoked_by)).toEqual([
      "remote_operator",
    ]);

    const answer = await callTool(client, "ibkr_health");
    expect(answer.isError).toBe(true);
    expect(answer.error).toMatchObject({ code: "SIDECAR_SESSION_INVALID", retryable: false });
  });
});

describe("after the suite", () => {
  it("neither store nor any log holds a token, a secret, the broker session or a raw account id", async () => {
    await chain.sidecar?.signal("SIGTERM");
    await chain.stopRemote("SIGTERM");
    const session = await brokerSessionToken(chain.sim);
    const stores = chain.storeBytes();
    const logs = chain.logs();
    expect(stores.length).toBeGreaterThan(0);
    expect(logs).toContain("relay session opened");
    const secrets = [
      ...chain.tokens,
      chain.auth.clientSecret,
      ...Object.values(PROCESS_SECRETS),
      session,
      REFUSED_VALUES.bearer,
      REFUSED_VALUES.cookie,
      `PIN ${OPERATOR_PIN}`,
    ];
    expect(chain.tokens.length).toBeGreaterThan(0);
    for (const [name, text] of [
      ["stores", stores],
      ["logs", logs],
    ] as const) {
      for (const secret of secrets)
        expect(text.includes(secret), `${name}: ${secret.slice(0, 12)}…`).toBe(false);
      expect(text.match(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g) ?? [], name).toEqual([]);
      expect(text.match(/\bD?U\d{7}\b/g) ?? [], name).toEqual([]);
      expect(text.includes("PRIVATE KEY"), name).toBe(false);
      for (const key of chain.privateKeys()) expect(text.includes(key), `${name}: a private key`).toBe(false);
    }
    // The stores hold neither the pairing code nor the user's raw subject (pairings keep its keyed hash).
    expect(stores.includes(pairing.code)).toBe(false);
    expect(stores.includes(pairing.code.replaceAll("-", ""))).toBe(false);
    expect(stores.includes(chain.user)).toBe(false);
  }, 60_000);
});
