// The relay protocol's vocabulary (docs/relay-protocol.md): one envelope for every message, the message
// types and their bodies, and the default limits. Both ends import these; nothing here does I/O.
import type { ErrorCode } from "../../../generated/errors.gen.ts";

export const RELAY_PROTOCOL_VERSION = 1;
/** Signatures cover this prefix and the envelope's text, so a relay signature means nothing elsewhere. */
export const SIGNING_DOMAIN = "ibkr-agent-relay/v1\n";
/** The path of the relay endpoint on the remote gateway's HTTP server (a WebSocket upgrade). */
export const RELAY_PATH = "/relay";

export const MESSAGE_TYPES = [
  "hello",
  "challenge",
  "auth",
  "ready",
  "heartbeat",
  "call",
  "result",
  "error",
  "close",
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Who sent a message; each direction has its own sequence and its own signing key. */
export type Sender = "sidecar" | "remote";

/** What each side may send; anything else from that side is a protocol violation. */
export const SENDS: Record<Sender, ReadonlySet<MessageType>> = {
  sidecar: new Set(["hello", "auth", "heartbeat", "result", "error", "close"]),
  remote: new Set(["challenge", "ready", "heartbeat", "call", "error", "close"]),
};

/** What one message says; it travels in a signed frame (signing.ts), whose `sig` covers its exact text. */
export interface Envelope<T extends MessageType = MessageType> {
  /** Protocol version. */
  readonly v: number;
  readonly type: T;
  readonly from: Sender;
  /** Relay session id (relay-<uuid>); null only on hello, before the remote assigned one. */
  readonly session: string | null;
  /** 0, 1, 2, ... per sender per session: exactly one more than the sender's previous message. */
  readonly seq: number;
  /** The tool call a call/result/error belongs to (req_...); null otherwise. */
  readonly request_id: string | null;
  /** RFC 3339 UTC with milliseconds, the sender's clock. */
  readonly sent_at: string;
  readonly body: Bodies[T];
}

export interface Limits {
  readonly max_message_bytes: number;
  readonly max_in_flight: number;
  readonly heartbeat_interval_seconds: number;
  readonly heartbeat_timeout_seconds: number;
  readonly request_timeout_seconds: number;
  readonly max_clock_skew_seconds: number;
}

export interface WireErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly user_action: string;
  readonly retryable: boolean;
  /** The sender's audit event of the failed call, when it wrote one. */
  readonly audit_event_id: string | null;
  readonly details?: Record<string, unknown>;
}

export interface Bodies {
  hello: {
    /** The sidecar's Ed25519 public key, raw 32 bytes base64url (the JWK "x"). */
    readonly sidecar_key: string;
    readonly sidecar_id: string;
    /** Fresh random value the remote must echo in its challenge (freshness for the sidecar). */
    readonly nonce: string;
  };
  challenge: {
    readonly challenge: string;
    readonly nonce: string;
    /**
     * The remote's Ed25519 public key (raw, base64url). The sidecar compares it with the key it stored at
     * pairing before anything else, and verifies every remote message with the stored key, never this one.
     */
    readonly remote_key: string;
    readonly remote_instance_id: string;
    readonly session_expires_at: string;
    readonly limits: Limits;
  };
  auth: {
    readonly challenge: string;
    readonly remote_instance_id: string;
  };
  ready: {
    readonly session_expires_at: string;
    /** The pairing the remote authenticated this sidecar by, and when it ends (the sidecar records both). */
    readonly pairing_id: string;
    readonly pairing_expires_at: string;
  };
  heartbeat: {
    readonly in_flight: number;
  };
  call: {
    readonly tool: string;
    readonly arguments: Record<string, unknown>;
    /** Scopes the remote granted this call (token ∩ allowed); the sidecar intersects them with its own. */
    readonly granted_scopes: readonly string[];
    /** Keyed hash both sides audit (payload-hash.ts); the sidecar recomputes and compares it. */
    readonly payload_hash: string;
    /** How long the remote waits for the answer. */
    readonly timeout_ms: number;
  };
  result: {
    readonly result: unknown;
    readonly payload_hash: string;
    readonly audit_event_id: string;
  };
  error: WireErrorBody;
  close: {
    readonly reason: CloseReason;
  };
}

export const CLOSE_REASONS = [
  "shutdown",
  "session_expired",
  "pairing_revoked",
  "pairing_expired",
  "replaced",
  "heartbeat_timeout",
  "protocol_violation",
  "handshake_failed",
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** WebSocket close codes (4000-4999 are the application's). */
export const CLOSE_CODES = {
  normal: 1000,
  tooBig: 1009,
  protocolViolation: 4400,
  pairingRequired: 4401,
  sessionInvalid: 4403,
  heartbeatTimeout: 4408,
  replaced: 4409,
  sessionExpired: 4410,
} as const;

/** How long the remote waits for hello and auth after the upgrade. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
