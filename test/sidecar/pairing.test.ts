// The pairing lifecycle on the remote gateway, against a real store and real keys with a manual clock:
// create -> claim -> approve -> active -> revoke or expire, with one-time codes, counted wrong attempts,
// the fingerprint comparison, the operator check, the audit trail, and nothing secret in the store.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadOrCreateIdentity, type RelayIdentity } from "../../src/sidecar/identity.ts";
import { createPairingService, relayUserPrincipal } from "../../src/sidecar/pairing.ts";
import { type ClaimMeta, createPairingEndpoints, signUnpair } from "../../src/sidecar/pairing-claim.ts";
import { relayEndpoints } from "../../src/sidecar/pairing-client.ts";
import { createPairingLookup } from "../../src/sidecar/pairing-lookup.ts";
import { events, openProfile, PIN, type Profile, remoteConfigText, tempHome } from "./pairing-support.ts";

const USER = "248289761001";
const MINUTE = 60_000;

function sidecarIdentity(): RelayIdentity {
  return loadOrCreateIdentity({
    profileDir: join(tempHome("ibkr-sidecar-key-"), "profiles", "client-portal"),
  });
}

function setup(configText = remoteConfigText()) {
  const remote = openProfile(configText);
  const service = createPairingService({
    store: remote.store,
    config: remote.loaded.config,
    identity: remote.identity,
    userPrincipal: relayUserPrincipal(remote.loaded, remote.store),
    clock: remote.clock,
  });
  const endpoints = createPairingEndpoints({
    store: remote.store,
    config: remote.loaded.config,
    identity: remote.identity,
    clock: remote.clock,
  });
  const meta = (): ClaimMeta => ({ requestId: `req_${crypto.randomUUID()}`, sessionId: "ses_test" });
  const claimBody = (code: string, key: RelayIdentity, extra: Record<string, unknown> = {}) => ({
    code,
    sidecar_key: key.publicKeyRaw,
    sidecar_id: key.sidecarId,
    accepted_tiers: ["read", "preview"],
    ...extra,
  });
  return { remote, service, endpoints, meta, claimBody };
}

function errorOf(fn: () => unknown): { code?: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a refusal");
}

function operatorContext(p: Profile) {
  return p.context(true);
}

describe("creating a pairing code", () => {
  it("returns the code once, stores only its hash, and binds it to the user's principal", () => {
    const { remote, service } = setup();
    const created = service.create({ user: USER }, remote.context());
    expect(created.code).toMatch(/^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    expect(created.pairing.status).toBe("pending");
    expect(created.remote_fingerprint).toBe(remote.identity.fingerprint);
    const principal = relayUserPrincipal(remote.loaded, remote.store)(USER);
    expect(principal).toMatch(/^oauth:[0-9a-f]{64}$/);
    expect(created.pairing.user).toBe(principal);
    expect(created.pairing.code_expires_at).toBe("2026-11-24T14:10:00Z");
    remote.store.close();
    const bytes = [remote.loaded.paths.storePath, `${remote.loaded.paths.storePath}-wal`]
      .map((file) => {
        try {
          return readFileSync(file).toString("latin1");
        } catch {
          return "";
        }
      })
      .join("");
    // Neither the code (in any spelling) nor the raw subject reach the store; the first group does (lookup).
    expect(bytes).not.toContain(created.code);
    expect(bytes).not.toContain(created.code.replaceAll("-", ""));
    expect(bytes).not.toContain(created.code.slice(5));
    expect(bytes).not.toContain(USER);
  });

  it("is audited without the code or the subject", () => {
    const { remote, service } = setup();
    const created = service.create({ user: USER }, remote.context());
    const [event] = events(remote.store, "relay_pairing_created");
    expect(event?.principal).toBe("local:operator");
    expect(event?.front_door).toBe("cli");
    expect(event?.metadata).toEqual({
      pairing_id: created.pairing.pairing_id,
      user_principal_hash: created.pairing.user.slice("oauth:".length),
      remote_instance_id: remote.identity.remoteInstanceId,
      code_expires_at: "2026-11-24T14:10:00Z",
      max_attempts: 5,
    });
    expect(JSON.stringify(event)).not.toContain(created.code.slice(5));
  });

  it("refuses a TTL outside 60 s .. sidecar.pairing.code_ttl_seconds, an empty user, and other front doors", () => {
    const { remote, service } = setup();
    expect(errorOf(() => service.create({ user: USER, ttlSeconds: 59 }, remote.context())).code).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    expect(errorOf(() => service.create({ user: USER, ttlSeconds: 601 }, remote.context())).code).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    expect(errorOf(() => service.create({ user: "  " }, remote.context())).code).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    const agent = { ...remote.context(), frontDoor: "mcp_http" as const };
    expect(errorOf(() => service.create({ user: USER }, agent)).code).toBe("APPROVAL_HUMAN_REQUIRED");
    expect(service.create({ user: USER, ttlSeconds: 60 }, remote.context()).pairing.code_expires_at).toBe(
      "2026-11-24T14:01:00Z",
    );
  });
});

describe("claiming a code", () => {
  it("answers with the remote's key and both fingerprints, and records the sidecar's key", () => {
    const { remote, service, endpoints, meta, claimBody } = setup();
    const created = service.create({ user: USER }, remote.context());
    const sidecar = sidecarIdentity();
    remote.clock.advance(MINUTE);
    // Case and spacing of the typed code do not matter.
    const typed = created.code.toLowerCase().replaceAll("-", " ");
    const answer = endpoints.claim(claimBody(typed, sidecar), meta());
    expect(answer).toEqual({
      pairing_id: created.pairing.pairing_id,
      remote_instance_id: remote.identity.remoteInstanceId,
      remote_key: remote.identity.publicKeyRaw,
      remote_fingerprint: remote.identity.fingerprint,
      sidecar_fingerprint: sidecar.fingerprint,
      approve_before: "2026-11-24T14:11:00Z",
      pairing_ttl_days: 30,
    });
    const [listed] = service.list();
    expect(listed?.status).toBe("claimed");
    expect(listed?.fingerprint).toBe(sidecar.fingerprint);
    expect(listed?.sidecar_id).toBe(sidecar.sidecarId);
    expect(listed?.accepted_tiers).toEqual(["read", "preview"]);
    const [event] = events(remote.store, "relay_pairing_claimed");
    expect(event?.decision).toBe("allow");
    expect(event?.front_door).toBe("relay");
    expect(event?.principal).toBe(`relay:${sidecar.sidecarId}`);
    expect(event?.metadata.public_key_sha256).toBe(sidecar.publicKeySha256);
  });

  it("works once: a second claim of the same code is refused", () => {
    const { remote, service, endpoints, meta, claimBody } = setup();
    const created = service.create({ user: USER }, remote.context());
    endpoints.claim(claimBody(created.code, sidecarIdentity()), meta());
    const second = errorOf(() => endpoints.claim(claimBody(created.code, sidecarIdentity()), meta()));
    expect(second.code).toBe("SIDECAR_PAIRING_CODE_INVALID");
    const refused = events(remote.store, "relay_pairing_claimed").filter((e) => e.decision === "refuse");
    expect(refused.map((e) => [e.error_code, e.metadata.check])).toEqual([
      ["SIDECAR_PAIRING_CODE_INVALID", "unknown_code"],
    ]);
  });

  it("counts wrong codes against the pairing and locks it at max_attempts, then refuses the right one", () => {
    const { remote, service, endpoints, meta, claimBody } = setup();
    const created = service.create({ user: USER }, remote.context());
    const sidecar = sidecarIdentity();
    const last = created.code.at(-1) === "A" ? "B" : "A";
    const wrong = `${created.code.slice(0, -1)}${last}`;
    for (let i = 0; i < 4; i += 1) {
      expect(errorOf(() => endpoints.claim(claimBody(wrong, sidecar), meta())).code).toBe(
        "SIDECAR_PAIRING_CODE_INVALID",
      );
    }
    expect(service.list()[0]?.status).toBe("pending");
    expect(service.list()[0]?.attempts).toBe(4);
    errorOf(() => endpoints.claim(claimBody(wrong, sidecar), meta()));
    expect(service.list()[0]?.status).toBe("locked");
    expect(errorOf(() => endpoints.claim(claimBody(created.code, sidecar), meta())).code).toBe(
      "SIDECAR_PAIRING_CODE_INVALID",
    );
    const checks = events(remote.store, "relay_pairing_claimed").map((e) => [
      e.metadata.check,
      e.metadata.attempts,
    ]);
    expect(checks).toEqual([
      ["wrong_code", 1],
      ["wrong_code", 2],
      ["wrong_code", 3],
      ["wrong_code", 4],
      ["locked", 5],
      ["unknown_code", undefined],
    ]);
  });

  it("refuses an expired code and records the expiry once", () => {
    const { remote, service, endpoints, meta, claimBody } = setup();
    const created = service.create({ user: USER, ttlSeconds: 120 }, remote.context());
    remote.clock.advance(2 * MINUTE);
    expect(errorOf(() => endpoints.claim(claimBody(created.code, sidecarIdentity()), meta())).code).toBe(
      "SIDECAR_PAIRING_CODE_INVALID",
    );
    expect(service.list()[0]?.status).toBe("expired");
    const revoked = events(remote.store, "relay_pairing_revoked");
    expect(revoked.map((e) => [e.metadata.revoked_by, e.metadata.previous_status])).toEqual([
      ["expiry", "pending"],
    ]);
    expect(events(remote.store, "relay_pairing_claimed").map((e) => e.metadata.check)).toEqual([
      "code_expired",
    ]);
  });

  it("refuses malformed claims: a key that is no key, a sidecar id of another key, unknown fields", () => {
    const { remote, service, endpoints, meta, claimBody } = setup();
    const created = service.create({ user: USER }, remote.context());
    const sidecar = sidecarIdentity();
    const other = sidecarIdentity();
    const bad = [
      claimBody(created.code, sidecar, { sidecar_key: "not-a-key" }),
      claimBody(created.code, sidecar, { sidecar_id: other.sidecarId }),
      claimBody(created.code, sidecar, { token: "x" }),
      claimBody(created.code, sidecar, { accepted_tiers: ["everything"] }),
      claimBody("ABCD", sidecar),
      "not an object",
    ];
    for (const body of bad)
      expect(errorOf(() => endpoints.claim(body, meta())).code).toBe("INPUT_INVALID_ARGUMENT");
    // None of them counted as an attempt: the pairing is still claimable.
    expect(service.list()[0]?.attempts).toBe(0);
    expect(endpoints.claim(claimBody(created.code, sidecar), meta()).pairing_id).toBe(
      created.pairing.pairing_id,
    );
  });
});

describe("approving a claim", () => {
  function claimed() {
    const s = setup();
    const created = s.service.create({ user: USER }, s.remote.context());
    const sidecar = sidecarIdentity();
    s.endpoints.claim(s.claimBody(created.code, sidecar), s.meta());
    return { ...s, created, sidecar, pairingId: created.pairing.pairing_id };
  }

  it("binds the key to the user when the typed fingerprint matches, for sidecar.pairing.ttl_days", () => {
    const { remote, service, sidecar, pairingId } = claimed();
    const typed = sidecar.fingerprint.toLowerCase().replaceAll("-", " ");
    const approved = service.approve({ pairingId, fingerprint: typed }, operatorContext(remote), {
      pin: PIN,
    });
    expect(approved.pairing.status).toBe("active");
    expect(approved.pairing.expires_at).toBe("2026-12-24T14:00:00Z");
    const lookup = createPairingLookup({ store: remote.store, clock: remote.clock });
    const principal = relayUserPrincipal(remote.loaded, remote.store)(USER);
    expect(lookup.activeForUser(principal).map((p) => p.pairingId)).toEqual([pairingId]);
    expect(lookup.byPublicKey(sidecar.publicKeyRaw)?.sidecarId).toBe(sidecar.sidecarId);
    expect(lookup.isActive(pairingId)).toBe(true);
    expect(lookup.isRevoked(pairingId)).toBe(false);
    const [event] = events(remote.store, "relay_paired");
    expect(event?.decision).toBe("allow");
    expect(event?.metadata).toMatchObject({
      side: "remote",
      pairing_id: pairingId,
      sidecar_id: sidecar.sidecarId,
      public_key_sha256: sidecar.publicKeySha256,
      user_principal_hash: principal.slice(6),
      accepted_tiers: ["read", "preview"],
      expires_at: "2026-12-24T14:00:00Z",
    });
  });

  it("refuses a fingerprint that does not match, audits it, and leaves the claim waiting", () => {
    const { remote, service, pairingId } = claimed();
    const other = sidecarIdentity();
    const error = errorOf(() =>
      service.approve({ pairingId, fingerprint: other.fingerprint }, operatorContext(remote), { pin: PIN }),
    );
    expect(error.code).toBe("SIDECAR_FINGERPRINT_MISMATCH");
    expect(service.list()[0]?.status).toBe("claimed");
    const [event] = events(remote.store, "relay_paired");
    expect([event?.decision, event?.error_code, event?.metadata.check]).toEqual([
      "refuse",
      "SIDECAR_FINGERPRINT_MISMATCH",
      "fingerprint_mismatch",
    ]);
    expect(
      errorOf(() =>
        service.approve({ pairingId, fingerprint: "ABCD" }, operatorContext(remote), { pin: PIN }),
      ).code,
    ).toBe("SIDECAR_FINGERPRINT_MISMATCH");
  });

  it("needs the operator at a terminal with the PIN", () => {
    const { remote, service, sidecar, pairingId } = claimed();
    const input = { pairingId, fingerprint: sidecar.fingerprint };
    expect(errorOf(() => service.approve(input, remote.context(false), { pin: PIN })).code).toBe(
      "APPROVAL_HUMAN_REQUIRED",
    );
    expect(errorOf(() => service.approve(input, operatorContext(remote), { pin: "000000" })).code).toBe(
      "OPERATOR_PIN_INVALID",
    );
    expect(errorOf(() => service.approve(input, operatorContext(remote), undefined)).code).toBe(
      "OPERATOR_PIN_INVALID",
    );
    expect(service.list()[0]?.status).toBe("claimed");
    expect(events(remote.store, "auth_denied").map((e) => e.metadata.check)).toEqual([
      "operator_terminal",
      "operator_pin",
      "operator_pin",
    ]);
  });

  it("refuses a pairing that was not claimed yet, and one whose approval window closed", () => {
    const { remote, service, sidecar, pairingId } = claimed();
    const pending = service.create({ user: "someone-else" }, remote.context());
    const early = errorOf(() =>
      service.approve(
        { pairingId: pending.pairing.pairing_id, fingerprint: sidecar.fingerprint },
        operatorContext(remote),
        {
          pin: PIN,
        },
      ),
    );
    expect(early.code).toBe("SIDECAR_PAIRING_REQUIRED");
    expect(early.message).toContain("is pending");
    remote.clock.advance(10 * MINUTE);
    const late = errorOf(() =>
      service.approve({ pairingId, fingerprint: sidecar.fingerprint }, operatorContext(remote), { pin: PIN }),
    );
    expect(late.code).toBe("SIDECAR_PAIRING_REQUIRED");
    expect(late.message).toContain("expired");
    expect(service.list().find((p) => p.pairing_id === pairingId)?.status).toBe("expired");
    expect(
      errorOf(() =>
        service.approve({ pairingId: "pairing-nope", fingerprint: "x" }, operatorContext(remote), {
          pin: PIN,
        }),
      ).code,
    ).toBe("SIDECAR_PAIRING_REQUIRED");
  });

  it("ends an older active pairing of the same key when a new one is approved", () => {
    const { remote, service, endpoints, meta, claimBody, sidecar, pairingId } = claimed();
    service.approve({ pairingId, fingerprint: sidecar.fingerprint }, operatorContext(remote), { pin: PIN });
    const again = service.create({ user: USER }, remote.context());
    endpoints.claim(claimBody(again.code, sidecar), meta());
    const approved = service.approve(
      { pairingId: again.pairing.pairing_id, fingerprint: sidecar.fingerprint },
      operatorContext(remote),
      { pin: PIN },
    );
    expect(approved.replaced_pairing_id).toBe(pairingId);
    const statuses = Object.fromEntries(service.list().map((p) => [p.pairing_id, p.status]));
    expect(statuses).toEqual({ [pairingId]: "revoked", [again.pairing.pairing_id]: "active" });
  });
});

describe("revoking and expiry", () => {
  function active() {
    const s = setup();
    const created = s.service.create({ user: USER }, s.remote.context());
    const sidecar = sidecarIdentity();
    s.endpoints.claim(s.claimBody(created.code, sidecar), s.meta());
    s.service.approve(
      { pairingId: created.pairing.pairing_id, fingerprint: sidecar.fingerprint },
      operatorContext(s.remote),
      {
        pin: PIN,
      },
    );
    const lookup = createPairingLookup({ store: s.remote.store, clock: s.remote.clock });
    return { ...s, sidecar, pairingId: created.pairing.pairing_id, lookup };
  }

  it("revokes at once (no PIN), audits it, and a second revoke changes nothing", () => {
    const { remote, service, pairingId, lookup, sidecar } = active();
    const revoked = service.revoke({ pairingId, reason: "laptop lost" }, remote.context(false));
    expect([revoked.changed, revoked.pairing.status, revoked.pairing.end_reason]).toEqual([
      true,
      "revoked",
      "laptop lost",
    ]);
    expect(lookup.isRevoked(pairingId)).toBe(true);
    expect(lookup.byPublicKey(sidecar.publicKeyRaw)).toBeNull();
    expect(service.revoke({ pairingId, reason: "again" }, remote.context(false)).changed).toBe(false);
    const trail = events(remote.store, "relay_pairing_revoked").map((e) => [
      e.metadata.revoked_by,
      e.metadata.reason,
    ]);
    expect(trail).toEqual([["remote_operator", "laptop lost"]]);
  });

  it("stops routing at the expiry even before the sweep, then records it once", () => {
    const { remote, service, pairingId, lookup, sidecar } = active();
    const principal = relayUserPrincipal(remote.loaded, remote.store)(USER);
    remote.clock.advance(30 * 86_400_000);
    expect(lookup.activeForUser(principal)).toEqual([]);
    expect(lookup.byPublicKey(sidecar.publicKeyRaw)).toBeNull();
    expect(lookup.isRevoked(pairingId)).toBe(true);
    expect(service.list()[0]?.status).toBe("expired");
    expect(lookup.sweepExpired()).toBe(0);
    expect(events(remote.store, "relay_pairing_revoked").map((e) => e.metadata.revoked_by)).toEqual([
      "expiry",
    ]);
  });

  it("lists newest first, by status and by user", () => {
    const { remote, service, pairingId } = active();
    remote.clock.advance(1000);
    const other = service.create({ user: "another-user" }, remote.context());
    expect(service.list().map((p) => p.pairing_id)).toEqual([other.pairing.pairing_id, pairingId]);
    expect(service.list({ statuses: ["active"] }).map((p) => p.pairing_id)).toEqual([pairingId]);
    expect(service.list({ user: "another-user" }).map((p) => p.pairing_id)).toEqual([
      other.pairing.pairing_id,
    ]);
  });

  it("lets the sidecar unpair with a request signed by its key, and nobody else", () => {
    const { remote, endpoints, meta, pairingId, sidecar, lookup } = active();
    const sentAt = new Date(remote.clock.now()).toISOString();
    const unsigned = {
      pairing_id: pairingId,
      sidecar_id: sidecar.sidecarId,
      sent_at: sentAt,
      reason: "new laptop",
    };
    const forger = sidecarIdentity();
    expect(errorOf(() => endpoints.unpair(signUnpair(unsigned, forger.privateKey), meta())).code).toBe(
      "SIDECAR_SESSION_INVALID",
    );
    const stale = { ...unsigned, sent_at: new Date(remote.clock.now() - 10 * MINUTE).toISOString() };
    expect(errorOf(() => endpoints.unpair(signUnpair(stale, sidecar.privateKey), meta())).code).toBe(
      "SIDECAR_SESSION_INVALID",
    );
    const signed = signUnpair(unsigned, sidecar.privateKey);
    expect(errorOf(() => endpoints.unpair({ ...signed, reason: "tampered" }, meta())).code).toBe(
      "SIDECAR_SESSION_INVALID",
    );
    expect(lookup.isActive(pairingId)).toBe(true);
    expect(endpoints.unpair(signed, meta())).toEqual({
      pairing_id: pairingId,
      status: "revoked",
      changed: true,
    });
    expect(endpoints.unpair(signed, meta()).changed).toBe(false);
    expect(lookup.isRevoked(pairingId)).toBe(true);
    const [event] = events(remote.store, "relay_pairing_revoked");
    expect([event?.principal, event?.metadata.revoked_by, event?.metadata.reason]).toEqual([
      `relay:${sidecar.sidecarId}`,
      "sidecar_owner",
      "new laptop",
    ]);
  });
});

describe("the relay user", () => {
  it("is the principal the remote MCP server computes for the same subject (src/auth/hashing.ts)", () => {
    const { remote } = setup();
    const principal = relayUserPrincipal(remote.loaded, remote.store)(USER);
    expect(principal).toBe(
      `oauth:${remote.store.hashTokenId(`subject:https://auth.example.test/\n${USER}`)}`,
    );
  });
});

describe("the remote's relay endpoints", () => {
  it("derive from the relay URL (https or wss; a bare origin means /relay)", () => {
    expect(relayEndpoints("wss://gateway.example.com/relay")).toEqual({
      relay: "https://gateway.example.com/relay",
      websocket: "wss://gateway.example.com/relay",
      pair: "https://gateway.example.com/relay/pair",
      unpair: "https://gateway.example.com/relay/unpair",
    });
    expect(relayEndpoints("https://gateway.example.com:8443").pair).toBe(
      "https://gateway.example.com:8443/relay/pair",
    );
    for (const bad of [
      "http://gateway.example.com/relay",
      "https://u:p@gateway.example.com/",
      "https://g.example/r?x=1",
      "nope",
    ]) {
      expect(() => relayEndpoints(bad)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    }
  });
});
