// Shape checks of the message bodies, after the envelope verified. A body that does not have its type's
// shape is a protocol violation like a bad signature: the peer is not speaking this protocol.
import { isErrorCode } from "../../../generated/errors.gen.ts";
import { ProtocolViolation } from "./channel.ts";
import type { Bodies, Envelope, MessageType } from "./messages.ts";

type Check = (body: Record<string, unknown>) => boolean;

const str = (value: unknown, max = 256): boolean => typeof value === "string" && value.length <= max;
const int = (value: unknown): boolean =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
const time = (value: unknown): boolean => str(value, 40) && Number.isFinite(Date.parse(value as string));
const record = (value: unknown): boolean =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const CHECKS: Record<MessageType, Check> = {
  hello: (b) => str(b.sidecar_key, 64) && str(b.sidecar_id, 128) && str(b.nonce, 64),
  challenge: (b) =>
    str(b.challenge, 64) &&
    str(b.nonce, 64) &&
    str(b.remote_key, 64) &&
    str(b.remote_instance_id, 128) &&
    time(b.session_expires_at) &&
    record(b.limits),
  auth: (b) => str(b.challenge, 64) && str(b.remote_instance_id, 128),
  ready: (b) => time(b.session_expires_at) && str(b.pairing_id, 128) && time(b.pairing_expires_at),
  heartbeat: (b) => int(b.in_flight),
  call: (b) =>
    str(b.tool, 64) &&
    record(b.arguments) &&
    Array.isArray(b.granted_scopes) &&
    b.granted_scopes.every((scope) => str(scope, 128)) &&
    str(b.payload_hash, 64) &&
    int(b.timeout_ms),
  result: (b) => "result" in b && str(b.payload_hash, 64) && str(b.audit_event_id, 128),
  error: (b) =>
    typeof b.code === "string" &&
    isErrorCode(b.code) &&
    str(b.message, 2000) &&
    str(b.user_action, 2000) &&
    typeof b.retryable === "boolean" &&
    (b.audit_event_id === null || str(b.audit_event_id, 128)),
  close: (b) => str(b.reason, 64),
};

/** The envelope with its body checked for its type; throws ProtocolViolation("malformed") otherwise. */
export function checkedBody<T extends MessageType>(envelope: Envelope, type: T): Bodies[T] {
  if (envelope.type !== type) throw new ProtocolViolation("unexpected_type", `expected ${type}`);
  const body = envelope.body as unknown as Record<string, unknown>;
  if (!CHECKS[type](body)) throw new ProtocolViolation("malformed", `malformed ${type} body`);
  return body as unknown as Bodies[T];
}

/** Checks any body by the envelope's own type. */
export function checkBody(envelope: Envelope): void {
  checkedBody(envelope, envelope.type);
}
