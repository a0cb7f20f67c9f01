// The relay's store records keep their own rules whatever the caller does: no raw subject, no private key,
// no code, one claim per code, one approved pairing per key; and the HTTP route answers only its two paths.
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { readJsonBody } from "../../src/mcp/http-body.ts";
import { createPairingEndpoints } from "../../src/sidecar/pairing-claim.ts";
import { createPairingHttpRoute, handlePairingClaim } from "../../src/sidecar/pairing-http.ts";
import { openProfile, remoteConfigText } from "./pairing-support.ts";

const PRINCIPAL = `oauth:${"b".repeat(64)}`;
const ID = "pairing-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";
const REMOTE = "remote-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe("relay pairing records", () => {
  it("refuse a raw subject, a code in place of its hash, and a private key in place of a public one", () => {
    const { store } = openProfile(remoteConfigText());
    const base = {
      pairingId: ID,
      codeLookup: "ABCD",
      codeHash: "c".repeat(64),
      userPrincipal: PRINCIPAL,
      remoteInstanceId: REMOTE,
      createdBy: "local:operator",
      createdAt: 1000,
      codeExpiresAt: 2000,
    };
    expect(codeOf(() => store.relayPairings.insert({ ...base, userPrincipal: "alice@example.com" }))).toBe(
      "INTERNAL_ERROR",
    );
    expect(codeOf(() => store.relayPairings.insert({ ...base, codeHash: "ABCD-EFGH-IJKL-MNOP" }))).toBe(
      "INTERNAL_ERROR",
    );
    store.relayPairings.insert(base);
    const claim = {
      sidecarId: "sidecar-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
      sidecarPublicKey: "-----BEGIN PRIVATE KEY-----",
      publicKeySha256: "d".repeat(64),
      sidecarTiers: ["read"],
      claimedAt: 1500,
      approveBefore: 2500,
    };
    expect(codeOf(() => store.relayPairings.claim(ID, claim))).toBe("INTERNAL_ERROR");
    const key = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    expect(store.relayPairings.claim(ID, { ...claim, sidecarPublicKey: key })).toBe(true);
    expect(store.relayPairings.claim(ID, { ...claim, sidecarPublicKey: key })).toBe(false);
    expect(store.relayPairings.approve(ID, { at: 2400, by: "local:operator", expiresAt: 9000 })).toEqual({
      replaced: null,
    });
    expect(store.relayPairings.activeByPublicKey(key, 8999)?.pairingId).toBe(ID);
    expect(store.relayPairings.activeByPublicKey(key, 9000)).toBeNull();
  });

  it("keep the sidecar's paired remote and the relay status a running relay reports", () => {
    const { store } = openProfile(remoteConfigText());
    const remote = {
      pairingId: ID,
      remoteUrl: "https://gateway.example.test/relay",
      remoteInstanceId: REMOTE,
      remotePublicKey: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
      sidecarId: "sidecar-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
      claimedAt: 1000,
      approveBefore: 2000,
    };
    expect(
      codeOf(() =>
        store.remotePairings.insert({ ...remote, remoteUrl: "https://u:p@gateway.example.test/relay" }),
      ),
    ).toBe("INTERNAL_ERROR");
    store.remotePairings.insert(remote);
    expect(store.remotePairings.current()?.status).toBe("claimed");
    expect(store.remotePairings.markActive(ID, 1500, 5000)).toBe(true);
    expect(store.remotePairings.get(ID)).toMatchObject({
      status: "active",
      approvedAt: 1500,
      expiresAt: 5000,
    });
    expect(
      store.remotePairings.revoke(ID, { at: 1600, by: "remote_operator", reason: "revoked there" }),
    ).toBe(true);
    expect(store.remotePairings.current()).toBeNull();
    expect(store.remotePairings.markActive(ID, 1700, 6000)).toBe(false);

    const status = {
      pairingId: ID,
      side: "remote" as const,
      relaySessionId: "relay-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5f",
      state: "connected",
      connectedAt: 1000,
      lastHeartbeatAt: 1900,
      inFlight: 2,
      processId: 4242,
      detail: null,
      updatedAt: 1900,
    };
    store.relayStatus.put(status);
    store.relayStatus.put({ ...status, inFlight: 0, updatedAt: 2000 });
    expect(store.relayStatus.list("remote")).toEqual([{ ...status, inFlight: 0, updatedAt: 2000 }]);
    expect(codeOf(() => store.relayStatus.put({ ...status, state: "Connected; DROP TABLE" }))).toBe(
      "INTERNAL_ERROR",
    );
    store.relayStatus.remove(ID, "remote");
    expect(store.relayStatus.get(ID, "remote")).toBeNull();
  });
});

describe("the pairing HTTP route", () => {
  async function serve() {
    const p = openProfile(remoteConfigText());
    const endpoints = createPairingEndpoints({
      store: p.store,
      config: p.loaded.config,
      identity: p.identity,
    });
    const route = createPairingHttpRoute({ endpoints, readBody: readJsonBody, maxBodyBytes: 256 });
    const server = createServer((req, res) => {
      void route(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end("not mine");
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const port = (server.address() as AddressInfo).port;
    const send = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((done, fail) => {
        const req = httpRequest({ host: "127.0.0.1", port, method, path }, (res) => {
          let text = "";
          res.on("data", (chunk) => {
            text += chunk;
          });
          res.on("end", () => done({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
        });
        req.on("error", fail);
        req.end(body);
      });
    return { endpoints, send, close: () => new Promise<void>((done) => server.close(() => done())) };
  }

  it("answers POST /relay/pair and /relay/unpair with catalogue errors, and nothing else", async () => {
    const { send, close } = await serve();
    try {
      const bad = await send("POST", "/relay/pair", JSON.stringify({ code: "AAAA-BBBB-CCCC-DDDD" }));
      expect(bad.status).toBe(400);
      expect(bad.headers["cache-control"]).toBe("no-store");
      expect(JSON.parse(bad.body)).toMatchObject({ error: { code: "INPUT_INVALID_ARGUMENT" } });
      expect((await send("GET", "/relay/pair")).status).toBe(405);
      expect((await send("POST", "/relay/pair", "x".repeat(300))).status).toBe(413);
      expect((await send("POST", "/relay/pair", "{not json")).status).toBe(400);
      const unpair = await send("POST", "/relay/unpair", "{}");
      expect(JSON.parse(unpair.body)).toMatchObject({ error: { code: "SIDECAR_SESSION_INVALID" } });
      expect((await send("POST", "/mcp", "{}")).body).toBe("not mine");
    } finally {
      await close();
    }
  });

  it("is also a pure function of the body", async () => {
    const { endpoints, close } = await serve();
    await close();
    const answer = handlePairingClaim(endpoints, null, {
      requestId: `req_${crypto.randomUUID()}`,
      sessionId: "ses_x",
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: "INPUT_INVALID_ARGUMENT", user_action: expect.any(String) },
    });
  });
});
