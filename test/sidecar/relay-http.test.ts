// The relay behind the remote's real HTTP front door (serveMcpHttp): the WebSocket upgrade and the /relay/*
// pairing requests share the pre-auth limit on the client's address with /mcp, relay connections count
// against the connection cap, and /readyz of a relay gateway is about its store and relay hub (it has no
// broker). Also the sidecar's record of a pairing its remote ended.
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { endLocalPairing } from "../../src/sidecar/relay-pairings.ts";
import { keyPair, PAIRING_ID, type RelayPairHarness, startRelayPair } from "./relay-support.ts";

let h: RelayPairHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The HTTP status a WebSocket upgrade to the relay was answered with (101 when it opened). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe("the relay behind the remote's HTTP server", () => {
  it("counts upgrades and pairing requests against the pre-auth limit per address, as /mcp", async () => {
    h = await startRelayPair({
      serveHttp: true,
      remoteMcp: { rate_limit: { pre_auth_max_requests: 3, window_seconds: 60 } },
    });
    const base = h.httpBase as string;
    // The daemon's upgrade was the first request of this address; two pairing requests use the rest.
    const post = () =>
      fetch(`${base}/relay/pair`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    for (let i = 0; i < 2; i += 1) expect((await post()).status).not.toBe(429);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("AUTH_RATE_LIMITED");
    expect(await upgradeStatus(h.relayUrl)).toBe(429);
    // /mcp shares the window: the same address is refused there too, before any token is looked at.
    const mcp = await fetch(`${base}/mcp`, { method: "POST", body: "{}" });
    expect(mcp.status).toBe(429);
    const denied = h.remoteEvents("auth_denied");
    expect(denied.map((e) => e.metadata.check)).toContain("rate_limit_pre_auth");
    expect(denied[0]?.error_code).toBe("AUTH_RATE_LIMITED");
    // The sidecar that connected before is unaffected.
    expect((await h.call("ibkr_accounts_list")).ok).toBe(true);
  });

  it("answers a relay upgrade over the connection cap with 503", async () => {
    h = await startRelayPair({ serveHttp: true, remoteMcp: { max_connections: 1 } });
    // The daemon's WebSocket is the one connection allowed.
    expect(await upgradeStatus(h.relayUrl)).toBe(503);
    expect(h.remoteEvents("relay_session_opened")).toHaveLength(1);
  });

  it("/readyz reports the store and the relay hub, and nothing else", async () => {
    h = await startRelayPair({ serveHttp: true });
    const base = h.httpBase as string;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { store: "ok", relay: "ok" } });
    await h.remote.relay?.close();
    const closed = await fetch(`${base}/readyz`);
    expect(closed.status).toBe(503);
    expect(await closed.json()).toEqual({ status: "not_ready", checks: { store: "ok", relay: "failing" } });
  });

  it("/readyz of a relay gateway does not depend on any sidecar being connected", async () => {
    h = await startRelayPair({ serveHttp: true, noDaemon: true });
    const ready = await fetch(`${h.httpBase as string}/readyz`);
    expect(ready.status).toBe(200);
  });
});

describe("the sidecar's record of a pairing its remote ended", () => {
  it("is revoked with relay_pairing_revoked, once", async () => {
    h = await startRelayPair({ noDaemon: true });
    const { store } = h.sidecar;
    const now = Date.now();
    store.remotePairings.insert({
      pairingId: PAIRING_ID,
      remoteUrl: "https://remote.example.test/relay",
      remoteInstanceId: "remote-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d",
      remotePublicKey: keyPair().raw,
      sidecarId: h.sidecarId,
      claimedAt: now,
      approveBefore: now + 600_000,
    });
    store.remotePairings.markActive(PAIRING_ID, now, now + 86_400_000);
    const audit = {
      requestId: "req_0190a1b2-c3d4-7e5f-8a9b-0000000000ff",
      sessionId: "ses_x",
      principal: "relay:x",
    };
    const ended = { pairingId: PAIRING_ID, reason: "pairing_revoked" as const, at: now + 1 };
    expect(endLocalPairing(store, ended, audit)).toBe(true);
    expect(store.remotePairings.get(PAIRING_ID)).toMatchObject({
      status: "revoked",
      endedBy: "remote_operator",
      endedAt: now + 1,
    });
    expect(store.remotePairings.current()).toBeNull();
    expect(endLocalPairing(store, ended, audit)).toBe(false);
    const events = h.sidecarEvents("relay_pairing_revoked");
    expect(events).toHaveLength(1);
    expect(events[0]?.metadata).toEqual({
      side: "sidecar",
      pairing_id: PAIRING_ID,
      sidecar_id: h.sidecarId,
      revoked_by: "remote_operator",
      previous_status: "active",
      reason: "the remote gateway reported the pairing revoked",
    });
  });
});
