// Relay faults in one process over real sockets: each test breaks one rule of the protocol or the pairing and
// checks the exact refusal, that nothing ran on the sidecar, and what both audit logs say.
import type { KeyObject } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { createManualClock, systemClock } from "../../src/core/clock.ts";
import { fingerprintOf, sidecarIdOf } from "../../src/sidecar/identity.ts";
import { type Channel, checkedBody, createChannel, type Envelope } from "../../src/sidecar/protocol/index.ts";
import { LIMIT_BUY, PAPER_ACCOUNT } from "../support/orders.ts";
import { keyPair, type RelayPairHarness, startRelayPair } from "./relay-support.ts";

let h: RelayPairHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A hand-driven sidecar speaking the protocol message by message. */
interface RawSidecar {
  readonly ws: WebSocket;
  readonly channel: Channel;
  readonly received: Envelope[];
  next(): Promise<Envelope>;
  readonly closed: Promise<number>;
  /** hello -> challenge -> auth -> ready. */
  handshake(): Promise<void>;
}

async function rawSidecar(
  harness: RelayPairHarness,
  key: { privateKey: KeyObject; raw: string } = harness.sidecarKey,
  clock = systemClock,
): Promise<RawSidecar> {
  const ws = new WebSocket(harness.relayUrl);
  const channel = createChannel({
    self: "sidecar",
    privateKey: key.privateKey,
    peerKey: (await import("../../src/sidecar/protocol/index.ts")).publicKeyFromRaw(harness.remoteKey.raw),
    clock,
    maxMessageBytes: 4 * 1024 * 1024,
    maxClockSkewMs: 30_000,
  });
  const received: Envelope[] = [];
  const waiting: ((e: Envelope) => void)[] = [];
  ws.on("message", (raw: Buffer) => {
    const envelope = channel.open(raw);
    const waiter = waiting.shift();
    if (waiter) waiter(envelope);
    else received.push(envelope);
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const next = () => {
    const first = received.shift();
    return first ? Promise.resolve(first) : new Promise<Envelope>((resolve) => waiting.push(resolve));
  };
  return {
    ws,
    channel,
    received,
    next,
    closed,
    async handshake() {
      ws.send(
        channel.seal("hello", { sidecar_key: key.raw, sidecar_id: sidecarIdOf(key.raw), nonce: "n0nce" }),
      );
      const challenge = checkedBody(await next(), "challenge");
      ws.send(
        channel.seal("auth", {
          challenge: challenge.challenge,
          remote_instance_id: challenge.remote_instance_id,
        }),
      );
      checkedBody(await next(), "ready");
    },
  };
}

function refusals(harness: RelayPairHarness) {
  return harness.remoteEvents("relay_session_refused").map((event) => event.metadata.check);
}

describe("pairing and session faults", () => {
  it("an unpaired key is refused at hello with SIDECAR_PAIRING_REQUIRED", async () => {
    h = await startRelayPair({ noDaemon: true });
    const stranger = await rawSidecar(h, keyPair());
    stranger.ws.send(
      stranger.channel.seal("hello", {
        sidecar_key: keyPair().raw,
        sidecar_id: "sidecar-x",
        nonce: "n",
      }),
    );
    expect(await stranger.closed).toBe(4400); // hello signed by another key than it names
    const unpaired = keyPair();
    const raw = await rawSidecar(h, unpaired);
    raw.ws.send(
      raw.channel.seal("hello", {
        sidecar_key: unpaired.raw,
        sidecar_id: sidecarIdOf(unpaired.raw),
        nonce: "n",
      }),
    );
    const answer = await raw.next();
    expect(answer.type).toBe("error");
    expect((answer.body as { code: string }).code).toBe("SIDECAR_PAIRING_REQUIRED");
    expect(await raw.closed).toBe(4401);
    expect(refusals(h)).toEqual(["bad_signature", "pairing_required"]);
    // With no live session the user's calls say why.
    const call = await h.call("ibkr_accounts_list");
    expect(call.ok ? null : call.error.code).toBe("SIDECAR_UNAVAILABLE");
  });

  it("a user without a pairing gets SIDECAR_PAIRING_REQUIRED, audited on the remote", async () => {
    h = await startRelayPair();
    const outcome = await h.remote.dispatch(
      "ibkr_accounts_list",
      {},
      {
        frontDoor: "mcp_http",
        principal: `oauth:${"b".repeat(64)}`,
        scopes: new Set(["ibkr:accounts:read"]),
        requestId: "req_0190a1b2-c3d4-7e5f-8a9b-0000000000aa",
      },
    );
    expect(outcome.ok ? null : outcome.error.code).toBe("SIDECAR_PAIRING_REQUIRED");
    expect(outcome.ok ? "" : outcome.error.userAction).toContain("ibkr-agent sidecar pair");
    const [event] = h.remoteEvents("tool_call");
    expect(event).toMatchObject({ error_code: "SIDECAR_PAIRING_REQUIRED", result_status: "refused" });
    expect(event?.metadata).toMatchObject({ relay_side: "remote" });
    expect(event?.metadata.payload_hash).toBeUndefined();
    expect(h.sidecarEvents("tool_call")).toHaveLength(0);
  });

  it("a revoked pairing ends the session; the sidecar ends its record and stops reconnecting", async () => {
    h = await startRelayPair();
    expect((await h.call("ibkr_accounts_list")).ok).toBe(true);
    h.pairing.status = "revoked";
    const outcome = await h.call("ibkr_accounts_list");
    expect(outcome.ok ? null : outcome.error.code).toBe("SIDECAR_SESSION_INVALID");
    expect(h.remoteEvents("relay_session_closed").map((e) => e.metadata.reason)).toEqual(["pairing_revoked"]);
    await vi.waitFor(() => expect(h?.pairingEnded.map((e) => e.reason)).toEqual(["pairing_revoked"]));
    expect(h.daemon.state).toBe("refused");
    expect(h.daemon.status().last_error).toEqual({
      code: "SIDECAR_SESSION_INVALID",
      message: expect.stringContaining("revoked this sidecar's pairing"),
    });
    expect(h.daemon.status().last_error?.message).toContain("ibkr-agent sidecar pair CODE");
    expect(h.sidecarEvents("relay_session_closed").map((e) => e.metadata.reason)).toEqual([
      "pairing_revoked",
    ]);
    // No new attempt: a reconnect would reach hello within the harness's 200 ms back-off cap.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(refusals(h)).toEqual([]);
    expect(h.remoteEvents("relay_session_opened")).toHaveLength(1);
    expect(h.sidecarEvents("tool_call")).toHaveLength(1);
  });

  it("a pairing revoked while the sidecar was away is refused at hello, once", async () => {
    h = await startRelayPair({ noDaemon: true });
    h.pairing.status = "revoked";
    h.startDaemon();
    await vi.waitFor(() => expect(h?.pairingEnded.map((e) => e.reason)).toEqual(["pairing_revoked"]));
    expect(h.pairingEnded[0]?.error.userAction).toContain("ibkr-agent sidecar pair CODE --remote URL");
    expect(h.localPairing.status).toBe("revoked");
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(refusals(h)).toEqual(["pairing_inactive"]);
  });

  it("an expired pairing ends the session with pairing_expired", async () => {
    h = await startRelayPair();
    h.pairing.expiresAt = h.remoteClock.now() - 1;
    h.remote.relay?.sweep();
    await vi.waitFor(() => expect(h?.pairingEnded.map((e) => e.reason)).toEqual(["pairing_expired"]));
    expect(h.remoteEvents("relay_session_closed").map((e) => e.metadata.reason)).toEqual(["pairing_expired"]);
    expect(h.daemon.status().last_error?.message).toContain("has expired");
  });

  it("the sidecar refuses a remote whose key is not the one it paired with", async () => {
    h = await startRelayPair({ noDaemon: true });
    const stored = keyPair().raw;
    h.localPairing.remotePublicKey = stored;
    h.startDaemon();
    const status = await h.daemon.waitFor("refused");
    expect(status.last_error).toEqual({
      code: "SIDECAR_SESSION_INVALID",
      message: expect.stringContaining(`not the key ${fingerprintOf(stored)} this sidecar paired with`),
    });
    expect(status.last_error?.message).toContain(fingerprintOf(h.remoteKey.raw));
    await vi.waitFor(() =>
      expect(h?.sidecarEvents("relay_session_refused")[0]).toMatchObject({
        error_code: "SIDECAR_SESSION_INVALID",
        metadata: { check: "remote_key", side: "sidecar" },
      }),
    );
    // Nothing was authenticated: no session on either side, and the remote's pairing is untouched.
    expect(h.remoteEvents("relay_session_opened")).toHaveLength(0);
    expect(h.sidecarEvents("relay_session_opened")).toHaveLength(0);
    expect(h.pairingEnded).toEqual([]);
  });

  it("a silent sidecar is marked unavailable once the heartbeat timeout passes", async () => {
    h = await startRelayPair({ noDaemon: true });
    const raw = await rawSidecar(h);
    await raw.handshake();
    expect(h.remote.relay?.status()[0]?.live).toBe(true);
    h.remoteClock.advance(3_001); // heartbeat_timeout_seconds is 3 in the harness
    expect(h.remote.relay?.status()[0]?.live).toBe(false);
    const outcome = await h.call("ibkr_accounts_list");
    expect(outcome.ok ? null : outcome.error.code).toBe("SIDECAR_UNAVAILABLE");
    expect(outcome.ok ? "" : outcome.error.message).toContain("has sent nothing for 3 s");
    expect(await raw.closed).toBe(4408);
    expect(h.remoteEvents("tool_call")[0]?.metadata).toMatchObject({
      relay_side: "remote",
      relay_heartbeat_age_seconds: 3,
    });
    expect(h.remoteEvents("tool_call")[0]?.metadata.relay_answer).toBeUndefined();
    expect(h.remoteEvents("relay_session_closed")[0]?.metadata.reason).toBe("heartbeat_timeout");
  });

  it("refuses a sidecar whose clock is off by more than the skew bound", async () => {
    h = await startRelayPair({ noDaemon: true });
    const skewed = createManualClock(Date.now() + 5 * 60_000);
    const raw = await rawSidecar(h, h.sidecarKey, skewed);
    raw.ws.send(
      raw.channel.seal("hello", { sidecar_key: h.sidecarKey.raw, sidecar_id: h.sidecarId, nonce: "n" }),
    );
    expect(await raw.closed).toBe(4400);
    expect(refusals(h)).toEqual(["clock_skew"]);
  });
});

describe("message faults after the handshake", () => {
  it("a forged message (signed by another key) ends the session", async () => {
    h = await startRelayPair({ noDaemon: true });
    const raw = await rawSidecar(h);
    await raw.handshake();
    const forger = createChannel({
      self: "sidecar",
      privateKey: keyPair().privateKey,
      clock: systemClock,
      maxMessageBytes: 1024,
      maxClockSkewMs: 1000,
    });
    forger.session = raw.channel.session;
    // Same session, the next sequence number: only the signature is wrong.
    for (let i = 0; i < raw.channel.sent; i += 1) forger.seal("heartbeat", { in_flight: 0 });
    raw.ws.send(forger.seal("heartbeat", { in_flight: 0 }));
    expect(await raw.closed).toBe(4400);
    expect(refusals(h)).toEqual(["bad_signature"]);
    expect(h.remoteEvents("relay_session_closed")[0]?.metadata.reason).toBe("protocol_violation");
  });

  it("a replayed message is refused and ends the session", async () => {
    h = await startRelayPair({ noDaemon: true });
    const raw = await rawSidecar(h);
    await raw.handshake();
    const beat = raw.channel.seal("heartbeat", { in_flight: 0 });
    raw.ws.send(beat);
    expect((await raw.next()).type).toBe("heartbeat");
    raw.ws.send(beat);
    expect(await raw.closed).toBe(4400);
    expect(refusals(h)).toEqual(["replayed_or_reordered"]);
  });

  it("an oversized message closes the connection with 1009 before it is parsed", async () => {
    h = await startRelayPair({ noDaemon: true, limits: { max_message_bytes: 64 * 1024 } });
    const raw = await rawSidecar(h);
    await raw.handshake();
    raw.ws.send(raw.channel.seal("heartbeat", { in_flight: 0, pad: "x".repeat(70 * 1024) } as never));
    expect(await raw.closed).toBe(1009);
    expect(refusals(h)).toEqual(["too_large"]);
  });

  it("a sidecar that drops the connection mid-call fails the call cleanly", async () => {
    h = await startRelayPair({ noDaemon: true });
    const raw = await rawSidecar(h);
    await raw.handshake();
    const pending = h.call("ibkr_accounts_list");
    const call = await raw.next();
    expect(call.type).toBe("call");
    expect(call.request_id).toMatch(/^req_/);
    // The forwarded call carries what the sidecar needs and nothing else.
    expect(Object.keys(call.body).sort()).toEqual([
      "arguments",
      "granted_scopes",
      "payload_hash",
      "timeout_ms",
      "tool",
    ]);
    raw.ws.terminate();
    const outcome = await pending;
    expect(outcome.ok ? null : outcome.error.code).toBe("SIDECAR_UNAVAILABLE");
    expect(outcome.ok ? "" : outcome.error.userAction).toContain("same idempotency key");
    expect(h.remoteEvents("tool_call").map((e) => e.result_status)).toEqual(["failed"]);
  });
});

describe("through the daemon", () => {
  it("reconnects after the remote dropped it and routes calls again", async () => {
    h = await startRelayPair();
    h.remoteClock.advance(3_001);
    h.remote.relay?.sweep();
    await h.daemon.waitFor("backoff");
    await h.daemon.waitFor("connected");
    const outcome = await h.call("ibkr_accounts_list");
    expect(outcome.ok).toBe(true);
    expect(h.remoteEvents("relay_session_opened")).toHaveLength(2);
    expect(h.daemon.status().reconnects).toBe(1);
  });

  it("refuses a payload carrying a token before it is forwarded", async () => {
    h = await startRelayPair();
    // A fixed signature: a random base64url one can hold "_", which the query's own pattern refuses first.
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMDEyMzQ1";
    const outcome = await h.call("ibkr_contracts_search", { query: jwt });
    expect(outcome.ok ? null : outcome.error.code).toBe("SIDECAR_PAYLOAD_REFUSED");
    expect(h.sidecarEvents("tool_call")).toHaveLength(0);
    expect(h.remoteEvents("tool_call")[0]).toMatchObject({
      error_code: "SIDECAR_PAYLOAD_REFUSED",
      metadata: { relay_side: "remote", unsafe_key_path: "arguments.query" },
    });
    expect(h.everything()).not.toContain(jwt);
  });

  it("the sidecar's own tier policy refuses what its config does not accept", async () => {
    h = await startRelayPair({ acceptedTiers: ["read"] });
    const outcome = await h.call("ibkr_order_preview", {
      account_id: PAPER_ACCOUNT,
      symbol: "AAPL",
      side: "buy",
      quantity: "1",
      order_type: "limit",
      limit_price: "100",
      time_in_force: "day",
    });
    expect(outcome.ok ? null : outcome.error.code).toBe("SIDECAR_TIER_REFUSED");
    expect(h.sidecarEvents("tool_call").map((e) => e.result_status)).toEqual(["refused"]);
    // The refusal is the call's one tool_call on each side, with the same payload hash.
    const [remoteCall] = h.remoteEvents("tool_call");
    const [sidecarCall] = h.sidecarEvents("tool_call");
    expect(remoteCall?.metadata).toMatchObject({ relay_side: "remote", relay_answer: "error" });
    expect(sidecarCall?.metadata).toMatchObject({ relay_side: "sidecar", relay_answer: "error" });
    expect(sidecarCall?.metadata.payload_hash).toBe(remoteCall?.metadata.payload_hash);
    expect(sidecarCall?.request_id).toBe(remoteCall?.request_id);
  });

  it("a paper order made through the relay is previewed, approved and submitted on the sidecar; a retry replays", async () => {
    h = await startRelayPair();
    const quote = await h.call("ibkr_market_snapshot", { contract_id: "265598" });
    if (!quote.ok) throw quote.error;
    const bid = String((quote.result as { bid: unknown }).bid);
    const preview = await h.call("ibkr_order_preview", { ...LIMIT_BUY, limit_price: bid });
    if (!preview.ok) throw preview.error;
    const previewId = (preview.result as { preview_id: string }).preview_id;
    const approval = await h.call("ibkr_approvals_create", {
      account_id: PAPER_ACCOUNT,
      preview_id: previewId,
    });
    if (!approval.ok) throw approval.error;
    const approvalId = (approval.result as { approval_id: string }).approval_id;
    const submit = { account_id: PAPER_ACCOUNT, approval_id: approvalId, idempotency_key: "relay-order-1" };
    const first = await h.call("ibkr_paper_order_submit", submit);
    if (!first.ok) throw first.error;
    const again = await h.call("ibkr_paper_order_submit", submit);
    if (!again.ok) throw again.error;
    expect((again.result as { replayed?: boolean }).replayed).toBe(true);
    expect((again.result as { order_id: string }).order_id).toBe(
      (first.result as { order_id: string }).order_id,
    );
    expect(h.sim.control.count("placeOrders")).toBe(1);
    // Both sides audited every call; the sidecar's workflow events (preview, approval, submit) are its own.
    expect(h.remoteEvents("tool_call")).toHaveLength(5);
    expect(h.sidecarEvents("tool_call")).toHaveLength(5);
    expect(h.sidecarEvents("order_submitted")).toHaveLength(1);
    expect(h.remoteEvents("order_submitted")).toHaveLength(0);
    expect(h.remoteEvents("order_preview_created")).toHaveLength(0);
  });
});
