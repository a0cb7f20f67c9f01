// The audit trail of authentication (contracts/audit-events.yaml auth_succeeded / auth_denied). Successes
// are written once per MCP session and again when a new token appears in it, not per request. Denials are
// coalesced: at most one event per client address hash and error code per minute; the ones held back are
// counted and reported as suppressed_count on the next event of that key (or by flush() at shutdown), so a
// flood of bad tokens cannot fill the disk while the log still shows how many there were.
import type { ErrorCode } from "../../generated/errors.gen.ts";
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/index.ts";
import type { Identity } from "./identity.ts";

export interface AuthEventContext {
  readonly requestId: string;
  readonly sessionId: string;
}

export interface Denial {
  readonly code: ErrorCode;
  readonly check: string;
  readonly httpStatus: number;
  readonly addressHash: string;
  /** The caller, when the denial comes after authentication (session of another subject, client limit). */
  readonly principal?: string;
  readonly scopes?: readonly string[];
  readonly tokenIdHash?: string;
  readonly claimedIssuer?: string;
  readonly origin?: string;
}

export interface AuthAuditor {
  /** Appends auth_succeeded; throws AUDIT_WRITE_FAILED when it cannot (the caller refuses the request). */
  succeeded(context: AuthEventContext, identity: Identity): void;
  /** Appends auth_denied unless an identical one was written within the minute; never throws. */
  denied(context: AuthEventContext, denial: Denial): void;
  /** Writes the counts still held back. */
  flush(): void;
}

const MINUTE_MS = 60_000;
const MAX_KEYS = 10_000;

interface Held {
  writtenAt: number;
  suppressed: number;
  last: Denial;
  context: AuthEventContext;
}

export function createAuthAuditor(options: {
  readonly store: Store;
  readonly clock: Clock;
  /** Called when a denial cannot be recorded (the request is refused anyway). */
  readonly onWriteFailure?: (error: unknown) => void;
}): AuthAuditor {
  const { store, clock } = options;
  const held = new Map<string, Held>();

  const write = (context: AuthEventContext, denial: Denial, suppressed: number) => {
    const metadata: Record<string, unknown> = {
      check: denial.check,
      http_status: denial.httpStatus,
      client_address_hash: denial.addressHash,
      suppressed_count: suppressed,
    };
    if (denial.tokenIdHash !== undefined) metadata.token_id_hash = denial.tokenIdHash;
    if (denial.claimedIssuer !== undefined) metadata.claimed_issuer = denial.claimedIssuer;
    if (denial.origin !== undefined) metadata.origin = denial.origin;
    try {
      store.append({
        event_type: "auth_denied",
        request_id: context.requestId,
        session_id: context.sessionId,
        principal: denial.principal ?? "anonymous",
        front_door: "mcp_http",
        decision: "deny",
        result_status: "denied_auth",
        error_code: denial.code,
        ...(denial.scopes !== undefined ? { scopes: [...denial.scopes] } : {}),
        metadata,
      });
    } catch (error) {
      options.onWriteFailure?.(error);
    }
  };

  const release = (entry: Held) => {
    if (entry.suppressed > 0) write(entry.context, entry.last, entry.suppressed);
  };

  return {
    succeeded(context, identity) {
      store.append({
        event_type: "auth_succeeded",
        request_id: context.requestId,
        session_id: context.sessionId,
        principal: identity.principal,
        front_door: "mcp_http",
        decision: "allow",
        result_status: "authenticated",
        scopes: [...identity.scopes].sort(),
        metadata: identity.auditMetadata,
      });
    },
    denied(context, denial) {
      const now = clock.now();
      const key = `${denial.addressHash}:${denial.code}`;
      const entry = held.get(key);
      if (entry !== undefined && now - entry.writtenAt < MINUTE_MS) {
        entry.suppressed += 1;
        entry.last = denial;
        entry.context = context;
        return;
      }
      held.delete(key);
      if (held.size >= MAX_KEYS) {
        for (const [oldKey, old] of held) {
          if (now - old.writtenAt < MINUTE_MS) break;
          release(old);
          held.delete(oldKey);
        }
      }
      write(context, denial, entry?.suppressed ?? 0);
      if (held.size < MAX_KEYS) held.set(key, { writtenAt: now, suppressed: 0, last: denial, context });
    },
    flush() {
      for (const entry of held.values()) release(entry);
      held.clear();
    },
  };
}
