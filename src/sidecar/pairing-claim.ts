// The remote gateway's side of `sidecar pair` and `sidecar unpair`, as plain functions of a request body:
// pairing-http.ts puts them on HTTP, and tests call them directly. Neither needs a token: the claim is
// authorised by the one-time code (counted wrong attempts, expiry, one use), the unpair by a signature of the
// key the pairing is bound to. Every claim is audited, refused ones with the reason; the code is never
// recorded. Store writes and audit events of one claim commit together, and a refusal is thrown only after
// its attempt count and event are committed.

import type { KeyObject } from "node:crypto";
import { sign, verify } from "node:crypto";
import { TIERS, type Tier } from "../../generated/scopes.gen.ts";
import type { Config } from "../config/schema.ts";
import { type Clock, systemClock, toRfc3339 } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import type { AuditContext, PairingRecord, Store } from "../store/index.ts";
import { canonicalJson } from "../store/jcs.ts";
import {
  fingerprintOf,
  parsePublicKey,
  publicKeySha256,
  type RelayIdentity,
  sidecarIdOf,
} from "./identity.ts";
import { normalizePairingCode, pairingCodeHash, sameCodeHash } from "./pairing-code.ts";
import { recordPairingEnded } from "./pairing-events.ts";
import { sweepExpiredPairings } from "./pairing-lookup.ts";

/** What a sidecar sends to claim a code (POST /relay/pair). */
export interface ClaimRequest {
  readonly code: string;
  /** The sidecar's raw Ed25519 public key, base64url (as the relay hello carries it). */
  readonly sidecar_key: string;
  /** sidecar-<uuid derived from the key>; must match the key. */
  readonly sidecar_id: string;
  /** Tiers the sidecar's configuration accepts over the relay (shown to the operator). */
  readonly accepted_tiers?: readonly string[];
}

/** The remote's answer to a good claim. */
export interface ClaimAnswer {
  readonly pairing_id: string;
  readonly remote_instance_id: string;
  /** The remote's raw Ed25519 public key: the sidecar checks the remote's relay messages against it. */
  readonly remote_key: string;
  readonly remote_fingerprint: string;
  /** The fingerprint of the key the remote received: the sidecar shows it and checks it is its own. */
  readonly sidecar_fingerprint: string;
  /** The operator must approve before this. */
  readonly approve_before: string;
  readonly pairing_ttl_days: number;
}

/** What a sidecar sends to end its pairing (POST /relay/unpair), signed with its key. */
export interface UnpairRequest {
  readonly pairing_id: string;
  readonly sidecar_id: string;
  /** RFC 3339; must be within UNPAIR_SKEW_MS of the remote's clock. */
  readonly sent_at: string;
  readonly reason?: string;
  /** Ed25519 over UNPAIR_DOMAIN + canonical JSON of the other fields, base64url. */
  readonly sig: string;
}

export interface UnpairAnswer {
  readonly pairing_id: string;
  readonly status: string;
  readonly changed: boolean;
}

export const UNPAIR_DOMAIN = "ibkr-agent-relay-unpair/v1\n";
export const UNPAIR_SKEW_MS = 300_000;

export interface ClaimMeta {
  /** req_<uuid> of the HTTP request, for the audit event. */
  readonly requestId: string;
  readonly sessionId: string;
}

export interface PairingEndpointsOptions {
  readonly store: Store;
  readonly config: Config;
  readonly identity: RelayIdentity;
  readonly clock?: Clock;
}

export interface PairingEndpoints {
  claim(body: unknown, meta: ClaimMeta): ClaimAnswer;
  unpair(body: unknown, meta: ClaimMeta): UnpairAnswer;
}

type ClaimCheck = "malformed" | "unknown_code" | "wrong_code" | "code_expired" | "already_claimed" | "locked";

const CLAIM_KEYS = new Set(["code", "sidecar_key", "sidecar_id", "accepted_tiers"]);
const UNPAIR_KEYS = new Set(["pairing_id", "sidecar_id", "sent_at", "reason", "sig"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function onlyKeys(body: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  return Object.keys(body).every((key) => allowed.has(key));
}

function codeInvalid(check: ClaimCheck): GatewayError {
  const malformed = check === "malformed";
  return new GatewayError(malformed ? "INPUT_INVALID_ARGUMENT" : "SIDECAR_PAIRING_CODE_INVALID", {
    ...(malformed
      ? {
          message:
            "The pairing claim is malformed: it needs code, sidecar_key (raw Ed25519, base64url) and the sidecar_id of that key.",
          userAction:
            "Pair with `ibkr-agent sidecar pair CODE --remote URL` of the same version as the gateway.",
        }
      : {}),
    // One answer for every bad code, so a caller learns nothing about which part was wrong.
    details: { check: malformed ? "malformed" : "code" },
  });
}

/** The signed bytes of an unpair request: a fixed domain and the canonical JSON of every field but sig. */
export function unpairSignedBytes(request: Omit<UnpairRequest, "sig">): Buffer {
  return Buffer.from(UNPAIR_DOMAIN + canonicalJson(request), "utf8");
}

export function signUnpair(request: Omit<UnpairRequest, "sig">, privateKey: KeyObject): UnpairRequest {
  return { ...request, sig: sign(null, unpairSignedBytes(request), privateKey).toString("base64url") };
}

export function createPairingEndpoints(options: PairingEndpointsOptions): PairingEndpoints {
  const { store, config, identity } = options;
  const clock = options.clock ?? systemClock;
  const settings = config.sidecar.pairing;

  const context = (meta: ClaimMeta, principal: string): AuditContext => ({
    request_id: meta.requestId,
    session_id: meta.sessionId,
    principal,
    front_door: "relay",
  });

  const refused = (
    audit: AuditContext,
    check: ClaimCheck,
    facts: { pairing?: PairingRecord; sidecarId?: string; keySha?: string; attempts?: number },
  ): GatewayError => {
    const error = codeInvalid(check);
    const event = store.append({
      ...audit,
      event_type: "relay_pairing_claimed",
      decision: "refuse",
      result_status: "refused",
      error_code: error.code,
      metadata: {
        side: "remote",
        ...(facts.pairing !== undefined ? { pairing_id: facts.pairing.pairingId } : {}),
        ...(facts.sidecarId !== undefined ? { sidecar_id: facts.sidecarId } : {}),
        remote_instance_id: identity.remoteInstanceId,
        ...(facts.keySha !== undefined ? { public_key_sha256: facts.keySha } : {}),
        check,
        ...(facts.attempts !== undefined ? { attempts: facts.attempts } : {}),
      },
    });
    error.auditEventId = event.event_id;
    return error;
  };

  return {
    claim(body, meta) {
      const key = isRecord(body) ? parsePublicKey(body.sidecar_key) : undefined;
      const keyRaw = key === undefined || !isRecord(body) ? undefined : (body.sidecar_key as string);
      const sidecarId = keyRaw === undefined ? undefined : sidecarIdOf(keyRaw);
      const keySha = keyRaw === undefined ? undefined : publicKeySha256(keyRaw);
      const audit = context(meta, sidecarId === undefined ? "anonymous" : `relay:${sidecarId}`);
      const code = isRecord(body) ? normalizePairingCode(body.code) : undefined;
      const tiers = isRecord(body) ? (body.accepted_tiers ?? []) : [];
      const wellFormed =
        isRecord(body) &&
        onlyKeys(body, CLAIM_KEYS) &&
        code !== undefined &&
        keyRaw !== undefined &&
        body.sidecar_id === sidecarId &&
        Array.isArray(tiers) &&
        tiers.length <= TIERS.length &&
        tiers.every((tier) => (TIERS as readonly unknown[]).includes(tier));
      if (!wellFormed || code === undefined || keyRaw === undefined || sidecarId === undefined) {
        throw refused(audit, "malformed", {
          ...(sidecarId !== undefined ? { sidecarId } : {}),
          ...(keySha !== undefined ? { keySha } : {}),
        });
      }
      const now = clock.now();
      const outcome = store.transaction((): { error: GatewayError } | { pairing: PairingRecord } => {
        const pairing = store.relayPairings.pendingByLookup(code.lookup);
        if (pairing === null) return { error: refused(audit, "unknown_code", { sidecarId, keySha }) };
        if (pairing.codeExpiresAt <= now) {
          sweepExpiredPairings(store, now, audit);
          return { error: refused(audit, "code_expired", { pairing, sidecarId, keySha }) };
        }
        if (!sameCodeHash(pairingCodeHash(store, pairing.pairingId, code), pairing.codeHash)) {
          const counted = store.relayPairings.recordWrongCode(pairing.pairingId, settings.max_attempts, now);
          return {
            error: refused(audit, counted.locked ? "locked" : "wrong_code", {
              pairing,
              sidecarId,
              keySha,
              attempts: counted.attempts,
            }),
          };
        }
        const approveBefore = now + settings.code_ttl_seconds * 1000;
        const accepted = TIERS.filter((tier: Tier) => (tiers as unknown[]).includes(tier));
        const claimed = store.relayPairings.claim(pairing.pairingId, {
          sidecarId,
          sidecarPublicKey: keyRaw,
          publicKeySha256: keySha ?? publicKeySha256(keyRaw),
          sidecarTiers: accepted,
          claimedAt: now,
          approveBefore,
        });
        if (!claimed) return { error: refused(audit, "already_claimed", { pairing, sidecarId, keySha }) };
        store.append({
          ...audit,
          event_type: "relay_pairing_claimed",
          decision: "allow",
          result_status: "completed",
          metadata: {
            side: "remote",
            pairing_id: pairing.pairingId,
            sidecar_id: sidecarId,
            remote_instance_id: pairing.remoteInstanceId,
            public_key_sha256: keySha ?? publicKeySha256(keyRaw),
            accepted_tiers: accepted,
            approve_before: toRfc3339(approveBefore),
            attempts: pairing.attempts,
          },
        });
        return { pairing: { ...pairing, approveBefore } };
      });
      if ("error" in outcome) throw outcome.error;
      return {
        pairing_id: outcome.pairing.pairingId,
        remote_instance_id: identity.remoteInstanceId,
        remote_key: identity.publicKeyRaw,
        remote_fingerprint: identity.fingerprint,
        sidecar_fingerprint: fingerprintOf(keyRaw),
        approve_before: toRfc3339(outcome.pairing.approveBefore ?? now),
        pairing_ttl_days: settings.ttl_days,
      };
    },

    unpair(body, meta) {
      const invalid = (message: string) =>
        new GatewayError("SIDECAR_SESSION_INVALID", {
          message,
          userAction:
            "The remote's operator can revoke the pairing with `ibkr-agent sidecar pairing revoke`; the sidecar's local pairing is ended either way.",
        });
      if (!isRecord(body) || !onlyKeys(body, UNPAIR_KEYS)) throw invalid("The unpair request is malformed.");
      const { pairing_id, sidecar_id, sent_at, reason, sig } = body;
      if (
        typeof pairing_id !== "string" ||
        typeof sidecar_id !== "string" ||
        typeof sent_at !== "string" ||
        typeof sig !== "string" ||
        (reason !== undefined && (typeof reason !== "string" || reason.length > 500))
      ) {
        throw invalid("The unpair request is malformed.");
      }
      const pairing = store.relayPairings.get(pairing_id);
      const key = pairing?.sidecarPublicKey === null ? undefined : parsePublicKey(pairing?.sidecarPublicKey);
      const unsigned = { pairing_id, sidecar_id, sent_at, ...(reason !== undefined ? { reason } : {}) };
      let signed = false;
      try {
        signed =
          key !== undefined && verify(null, unpairSignedBytes(unsigned), key, Buffer.from(sig, "base64url"));
      } catch {
        signed = false;
      }
      const now = clock.now();
      const skew = Math.abs(Date.parse(sent_at) - now);
      if (pairing === null || !signed || pairing.sidecarId !== sidecar_id || !(skew <= UNPAIR_SKEW_MS)) {
        throw invalid(
          "The unpair request is not signed by the key of that pairing, or its clock is too far off.",
        );
      }
      const audit = context(meta, `relay:${sidecar_id}`);
      const changed = store.transaction(() => {
        const ended = store.relayPairings.end(pairing_id, {
          at: now,
          by: "sidecar_owner",
          reason: reason ?? "",
          status: "revoked",
        });
        if (!ended) return false;
        recordPairingEnded(store, audit, {
          side: "remote",
          pairingId: pairing_id,
          sidecarId: sidecar_id,
          revokedBy: "sidecar_owner",
          previousStatus: pairing.status,
          reason: reason ?? "",
        });
        return true;
      });
      const after = store.relayPairings.get(pairing_id);
      return { pairing_id, status: after?.status ?? "revoked", changed };
    },
  };
}
