// Pairing on the remote gateway: the operator issues a one-time code for one user, the user's sidecar claims
// it with its public key (pairing-claim.ts), both sides print the key's fingerprint, and the operator approves
// by typing that fingerprint, which binds the key to the user and this remote instance until the pairing
// expires or someone revokes it. The operator steps are CLI-only and audited; approving also needs the
// operator at a terminal with the PIN (src/workflows/operator.ts), because it is the step that gives a
// machine elsewhere the right to serve a user's calls. Revoking only takes a right away and needs no PIN.
//
// The user is named by the subject claim of their token (remote_mcp.subject_claim, `sub` by default) and
// stored only as the principal the remote MCP server computes for that caller (oauth:<keyed hash of issuer
// and subject>), so routing compares principals and the raw subject is never written anywhere.

import { createIdentityHasher } from "../auth/hashing.ts";
import type { LoadedConfig } from "../config/load-core.ts";
import type { Config } from "../config/schema.ts";
import type { CallContext } from "../core/call-context.ts";
import { type Clock, systemClock, toRfc3339 } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { uuidv7 } from "../core/ids.ts";
import type { PairingRecord, PairingStatus, Store } from "../store/index.ts";
import { auditContextOf } from "../workflows/audit/events.ts";
import { type OperatorProof, requireOperator } from "../workflows/operator.ts";
import { normalizeFingerprint, type RelayIdentity } from "./identity.ts";
import { newPairingCode, pairingCodeHash } from "./pairing-code.ts";
import { recordPairingEnded } from "./pairing-events.ts";
import { createPairingLookup, isEnded, type PairingLookup } from "./pairing-lookup.ts";
import { effectiveStatus, type PairingView, pairingView } from "./pairing-views.ts";

export interface PairingServiceOptions {
  readonly store: Store;
  readonly config: Config;
  /** The remote gateway's own identity (its instance id and the key its relay messages are signed with). */
  readonly identity: RelayIdentity;
  /** The principal of a user named by their subject claim (relayUserPrincipal). */
  readonly userPrincipal: (subject: string) => string;
  readonly clock?: Clock;
}

export interface CreatedPairing {
  readonly pairing: PairingView;
  /** The one-time code, shown once to the operator; it is nowhere else. */
  readonly code: string;
  readonly remote_fingerprint: string;
}

export interface ApprovedPairing {
  readonly pairing: PairingView;
  readonly replaced_pairing_id?: string;
}

export interface RevokedPairing {
  readonly pairing: PairingView;
  /** False when the pairing had ended already (nothing changed, nothing audited). */
  readonly changed: boolean;
}

export interface PairingService {
  readonly lookup: PairingLookup;
  create(input: { user: string; ttlSeconds?: number }, context: CallContext): CreatedPairing;
  approve(
    input: { pairingId: string; fingerprint: string },
    context: CallContext,
    proof: OperatorProof | undefined,
  ): ApprovedPairing;
  revoke(input: { pairingId: string; reason: string }, context: CallContext): RevokedPairing;
  /** Newest first, after marking overdue pairings expired. */
  list(filter?: { statuses?: readonly PairingStatus[]; user?: string }): PairingView[];
}

const SUBJECT_MAX = 256;
/** Pairing codes are short-lived by design; the configured TTL is the longest an operator may ask for. */
export const MIN_CODE_TTL_SECONDS = 60;

/**
 * The principal of a user named by their subject, exactly as the remote MCP server computes it for a caller
 * (src/mcp/http-handler.ts): the token-id secret when configured, else the store's token-id key.
 */
export function relayUserPrincipal(loaded: LoadedConfig, store: Store): (subject: string) => string {
  const issuer = loaded.config.remote_mcp.issuer;
  if (issuer === undefined) {
    throw new GatewayError("CONFIG_SIDECAR_FORBIDDEN", {
      message: "Pairing needs remote_mcp.issuer: a user is the subject of a token from that issuer.",
      userAction: "Complete the remote_mcp block of the relay gateway's configuration (docs/sidecar.md).",
    });
  }
  const secret = loaded.secrets.tokenIdHmacSecret();
  const hasher = createIdentityHasher({
    ...(secret !== undefined ? { secret } : {}),
    fallback: (text) => store.hashTokenId(text),
  });
  return (subject) => hasher.principal(issuer, subject);
}

/** Pairing codes are issued, approved and revoked on the relay gateway only (its store holds the pairings). */
export function requireRelayRole(config: Config): void {
  if (config.broker.backend !== "relay") {
    throw new GatewayError("CONFIG_SIDECAR_FORBIDDEN", {
      message:
        "Pairing codes are managed on the remote gateway (broker.backend relay); this configuration is not one.",
      userAction:
        "Run `ibkr-agent sidecar pairing ...` with the remote gateway's config (--config or $IBKR_AGENT_CONFIG). On the user's machine, use `ibkr-agent sidecar pair`.",
    });
  }
  if (!config.sidecar.enabled || !config.safety.sidecar_enabled || !config.remote_mcp.enabled) {
    throw new GatewayError("CONFIG_SIDECAR_FORBIDDEN", {
      message: "The relay is not enabled in this configuration.",
      userAction:
        "Set sidecar.enabled, safety.sidecar_enabled, remote_mcp.enabled and safety.remote_mcp_enabled (docs/sidecar.md), then check with `ibkr-agent config validate`.",
    });
  }
}

/** The hex part of an oauth principal, as audit metadata user_principal_hash carries it. */
export function principalHash(principal: string): string {
  return principal.replace(/^oauth:/, "");
}

/** Operator steps run from the CLI only: an agent with a token must not be able to pair or unpair. */
function requireCli(context: CallContext, action: string): void {
  if (context.frontDoor !== "cli") {
    throw new GatewayError("APPROVAL_HUMAN_REQUIRED", {
      message: `Only the remote gateway's operator can ${action}, with the ibkr-agent CLI.`,
      userAction: `Run \`ibkr-agent sidecar pairing ...\` on the remote gateway's host to ${action}.`,
      details: { front_door: context.frontDoor },
    });
  }
}

function checkSubject(user: string): string {
  const subject = typeof user === "string" ? user.trim() : "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (subject === "" || subject.length > SUBJECT_MAX || /[\u0000-\u001f\u007f]/.test(subject)) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `--user must be the user's token subject (1 to ${SUBJECT_MAX} characters, no control characters).`,
      userAction:
        "Give the value of the user's token claim named by remote_mcp.subject_claim (sub by default), e.g. --user 248289761001.",
      details: { field: "user" },
    });
  }
  return subject;
}

function notFound(pairingId: string): GatewayError {
  return new GatewayError("SIDECAR_PAIRING_REQUIRED", {
    message: `There is no pairing ${pairingId} on this gateway.`,
    userAction: "List the pairings with `ibkr-agent sidecar pairing list` and use an id from there.",
    details: { pairing_id: pairingId },
  });
}

const NOT_CLAIMED_ACTION: Record<string, string> = {
  pending:
    "The sidecar has not claimed the code yet: the user runs `ibkr-agent sidecar pair CODE --remote URL` first, then you approve.",
  active: "It is approved already; nothing to do.",
  expired: "It expired; issue a new code with `ibkr-agent sidecar pairing create`.",
  revoked: "It was revoked; issue a new code with `ibkr-agent sidecar pairing create`.",
  locked:
    "It was locked after too many wrong codes; issue a new code with `ibkr-agent sidecar pairing create`.",
};

export function createPairingService(options: PairingServiceOptions): PairingService {
  const { store, config, identity } = options;
  const clock = options.clock ?? systemClock;
  const settings = config.sidecar.pairing;
  const lookup = createPairingLookup({ store, clock });

  const get = (pairingId: string): PairingRecord => {
    const pairing = typeof pairingId === "string" ? store.relayPairings.get(pairingId) : null;
    if (pairing === null) throw notFound(String(pairingId));
    return pairing;
  };

  const refuseApproval = (
    context: CallContext,
    pairing: PairingRecord,
    check: "fingerprint_mismatch" | "not_claimed" | "approval_expired",
    error: GatewayError,
  ): never => {
    const event = store.append({
      ...auditContextOf(context),
      event_type: "relay_paired",
      decision: "refuse",
      result_status: "refused",
      error_code: error.code,
      metadata: {
        side: "remote",
        pairing_id: pairing.pairingId,
        ...(pairing.sidecarId !== null ? { sidecar_id: pairing.sidecarId } : {}),
        remote_instance_id: pairing.remoteInstanceId,
        check,
      },
    });
    error.auditEventId = event.event_id;
    throw error;
  };

  return {
    lookup,

    create(input, context) {
      requireCli(context, "issue a pairing code");
      const subject = checkSubject(input.user);
      const ttl = input.ttlSeconds ?? settings.code_ttl_seconds;
      if (!Number.isInteger(ttl) || ttl < MIN_CODE_TTL_SECONDS || ttl > settings.code_ttl_seconds) {
        throw new GatewayError("INPUT_INVALID_ARGUMENT", {
          message: `--ttl must be whole seconds from ${MIN_CODE_TTL_SECONDS} to ${settings.code_ttl_seconds} (sidecar.pairing.code_ttl_seconds).`,
          details: { field: "ttl" },
        });
      }
      const userPrincipal = options.userPrincipal(subject);
      const now = clock.now();
      const pairingId = `pairing-${uuidv7(clock)}`;
      const codeExpiresAt = now + ttl * 1000;
      // A first group can repeat one of another open code; the store refuses that and a new code is drawn.
      for (let attempt = 0; ; attempt += 1) {
        const code = newPairingCode();
        try {
          store.transaction(() => {
            store.relayPairings.insert({
              pairingId,
              codeLookup: code.lookup,
              codeHash: pairingCodeHash(store, pairingId, code),
              userPrincipal,
              remoteInstanceId: identity.remoteInstanceId,
              createdBy: context.principal,
              createdAt: now,
              codeExpiresAt,
            });
            store.append({
              ...auditContextOf(context),
              event_type: "relay_pairing_created",
              decision: "allow",
              result_status: "completed",
              metadata: {
                pairing_id: pairingId,
                user_principal_hash: principalHash(userPrincipal),
                remote_instance_id: identity.remoteInstanceId,
                code_expires_at: toRfc3339(codeExpiresAt),
                max_attempts: settings.max_attempts,
              },
            });
          });
        } catch (error) {
          const unique = String((error as { message?: unknown }).message ?? "").includes("UNIQUE");
          if (unique && attempt < 5) continue;
          throw error;
        }
        return {
          pairing: pairingView(get(pairingId), now),
          code: code.text,
          remote_fingerprint: identity.fingerprint,
        };
      }
    },

    approve(input, context, proof) {
      requireCli(context, "approve a sidecar pairing");
      requireOperator({ config, store, clock }, context, proof, "approve a sidecar pairing");
      const pairing = get(input.pairingId);
      const now = clock.now();
      const status = effectiveStatus(pairing, now);
      if (status !== "claimed") {
        if (pairing.status === "claimed") {
          // The approval window closed before the operator got to it.
          lookup.sweepExpired(auditContextOf(context));
          return refuseApproval(
            context,
            pairing,
            "approval_expired",
            new GatewayError("SIDECAR_PAIRING_REQUIRED", {
              message: `Pairing ${pairing.pairingId} waited too long for approval and expired.`,
              userAction:
                "Issue a new code with `ibkr-agent sidecar pairing create`, and approve within sidecar.pairing.code_ttl_seconds of the claim.",
              details: { pairing_id: pairing.pairingId, status: "expired" },
            }),
          );
        }
        return refuseApproval(
          context,
          pairing,
          "not_claimed",
          new GatewayError("SIDECAR_PAIRING_REQUIRED", {
            message: `Pairing ${pairing.pairingId} is ${status}, not awaiting approval.`,
            userAction: NOT_CLAIMED_ACTION[status] ?? "Check it with `ibkr-agent sidecar pairing list`.",
            details: { pairing_id: pairing.pairingId, status },
          }),
        );
      }
      const typed = normalizeFingerprint(String(input.fingerprint ?? ""));
      const expected = pairingView(pairing, now).fingerprint;
      if (typed === undefined || expected === undefined || typed !== expected) {
        return refuseApproval(
          context,
          pairing,
          "fingerprint_mismatch",
          new GatewayError("SIDECAR_FINGERPRINT_MISMATCH", {
            details: { pairing_id: pairing.pairingId, well_formed: typed !== undefined },
          }),
        );
      }
      const expiresAt = now + settings.ttl_days * 86_400_000;
      const replaced = store.transaction(() => {
        const result = store.relayPairings.approve(pairing.pairingId, {
          at: now,
          by: context.principal,
          expiresAt,
        });
        if (result === false) return false;
        if (result.replaced !== null) {
          recordPairingEnded(store, auditContextOf(context), {
            side: "remote",
            pairingId: result.replaced,
            sidecarId: pairing.sidecarId,
            revokedBy: "remote_operator",
            previousStatus: "active",
            reason: `replaced by ${pairing.pairingId}`,
          });
        }
        store.append({
          ...auditContextOf(context),
          event_type: "relay_paired",
          decision: "allow",
          result_status: "completed",
          metadata: {
            side: "remote",
            pairing_id: pairing.pairingId,
            ...(pairing.sidecarId !== null ? { sidecar_id: pairing.sidecarId } : {}),
            remote_instance_id: pairing.remoteInstanceId,
            user_principal_hash: principalHash(pairing.userPrincipal),
            ...(pairing.publicKeySha256 !== null ? { public_key_sha256: pairing.publicKeySha256 } : {}),
            accepted_tiers: [...(pairing.sidecarTiers ?? [])],
            expires_at: toRfc3339(expiresAt),
            ...(result.replaced !== null ? { replaced_pairing_id: result.replaced } : {}),
          },
        });
        return result;
      });
      if (replaced === false) {
        // Another process ended or approved it between the check and the update.
        const now2 = clock.now();
        const again = get(pairing.pairingId);
        throw new GatewayError("SIDECAR_PAIRING_REQUIRED", {
          message: `Pairing ${pairing.pairingId} changed while it was being approved; it is ${effectiveStatus(again, now2)} now.`,
          userAction: "Check it with `ibkr-agent sidecar pairing list`.",
          details: { pairing_id: pairing.pairingId },
        });
      }
      return {
        pairing: pairingView(get(pairing.pairingId), now),
        ...(replaced.replaced !== null ? { replaced_pairing_id: replaced.replaced } : {}),
      };
    },

    revoke(input, context) {
      requireCli(context, "revoke a sidecar pairing");
      get(input.pairingId);
      // An overdue pairing is recorded as expired first; revoking it then changes nothing.
      lookup.sweepExpired(auditContextOf(context));
      const pairing = get(input.pairingId);
      const now = clock.now();
      if (isEnded(pairing, now)) return { pairing: pairingView(pairing, now), changed: false };
      const changed = store.transaction(() => {
        const ended = store.relayPairings.end(pairing.pairingId, {
          at: now,
          by: "remote_operator",
          reason: input.reason,
          status: "revoked",
        });
        if (!ended) return false;
        recordPairingEnded(store, auditContextOf(context), {
          side: "remote",
          pairingId: pairing.pairingId,
          sidecarId: pairing.sidecarId,
          revokedBy: "remote_operator",
          previousStatus: pairing.status,
          reason: input.reason,
        });
        return true;
      });
      return { pairing: pairingView(get(pairing.pairingId), now), changed };
    },

    list(filter = {}) {
      lookup.sweepExpired();
      const now = clock.now();
      const userPrincipal =
        filter.user === undefined ? undefined : options.userPrincipal(checkSubject(filter.user));
      return store.relayPairings
        .list({
          ...(filter.statuses !== undefined ? { statuses: filter.statuses } : {}),
          ...(userPrincipal !== undefined ? { userPrincipal } : {}),
        })
        .map((pairing) => pairingView(pairing, now));
    },
  };
}
