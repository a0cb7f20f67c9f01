// One end of one relay connection: seals outgoing messages (next sequence number, session id, time, signature)
// and opens incoming ones, refusing anything that is too large, malformed, signed by another key, from
// another session, replayed, reordered or sent with a clock too far from ours. Over one WebSocket (one TCP
// stream) messages arrive in the order they were sent, so the only acceptable next number is the previous
// one plus one: a replay, a gap and a reordering are all the same refusal.
import type { KeyObject } from "node:crypto";
import type { Clock } from "../../core/clock.ts";
import {
  type Bodies,
  type Envelope,
  MESSAGE_TYPES,
  type MessageType,
  RELAY_PROTOCOL_VERSION,
  SENDS,
  type Sender,
} from "./messages.ts";
import { signFrame, splitFrame, verifyFrame } from "./signing.ts";

export const VIOLATIONS = [
  "too_large",
  "malformed",
  "unexpected_type",
  "bad_signature",
  "wrong_session",
  "replayed_or_reordered",
  "clock_skew",
] as const;
export type Violation = (typeof VIOLATIONS)[number];

/** An incoming message the channel refused; the connection ends with it. */
export class ProtocolViolation extends Error {
  readonly violation: Violation;
  constructor(violation: Violation, message: string) {
    super(message);
    this.name = "ProtocolViolation";
    this.violation = violation;
  }
}

export interface ChannelOptions {
  readonly self: Sender;
  readonly privateKey: KeyObject;
  /** The peer's public key; may be set later (the remote learns the sidecar's from its hello). */
  readonly peerKey?: KeyObject;
  readonly clock: Clock;
  readonly maxMessageBytes: number;
  readonly maxClockSkewMs: number;
}

export interface Channel {
  /**
   * The relay session id once known: set by the remote when it challenges; the sidecar's channel takes it
   * from the first challenge whose signature verified.
   */
  session: string | null;
  peerKey: KeyObject | undefined;
  seal<T extends MessageType>(type: T, body: Bodies[T], requestId?: string | null): string;
  /**
   * Verifies and accepts one incoming message. `verifyWith` overrides the peer key for this message only
   * (the remote checks hello against the key hello itself names; the pairing decides whether it is known).
   */
  open(raw: string | Buffer, verifyWith?: KeyObject): Envelope;
  /** Sequence number of the next message this end sends. */
  readonly sent: number;
}

const ENVELOPE_KEYS = "body,from,request_id,sent_at,seq,session,type,v";
const REQUEST_ID = /^req_[A-Za-z0-9-]{1,64}$/;
const SESSION_ID = /^relay-[0-9a-f-]{36}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The envelope's own shape; bodies are checked by their consumer (body-checks.ts). */
export function parseEnvelope(raw: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ProtocolViolation("malformed", "not JSON");
  }
  if (!isRecord(value)) throw new ProtocolViolation("malformed", "not an object");
  const { v, type, from, session, seq, request_id, sent_at, body } = value;
  if (Object.keys(value).sort().join(",") !== ENVELOPE_KEYS)
    throw new ProtocolViolation("malformed", "unexpected envelope fields");
  if (v !== RELAY_PROTOCOL_VERSION) throw new ProtocolViolation("malformed", "unsupported protocol version");
  if (typeof type !== "string" || !(MESSAGE_TYPES as readonly string[]).includes(type))
    throw new ProtocolViolation("malformed", "unknown message type");
  if (from !== "sidecar" && from !== "remote") throw new ProtocolViolation("malformed", "unknown sender");
  if (session !== null && (typeof session !== "string" || !SESSION_ID.test(session)))
    throw new ProtocolViolation("malformed", "bad session id");
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0)
    throw new ProtocolViolation("malformed", "bad sequence number");
  if (request_id !== null && (typeof request_id !== "string" || !REQUEST_ID.test(request_id)))
    throw new ProtocolViolation("malformed", "bad request id");
  if (typeof sent_at !== "string" || !Number.isFinite(Date.parse(sent_at)))
    throw new ProtocolViolation("malformed", "bad sent_at");
  if (!isRecord(body)) throw new ProtocolViolation("malformed", "body is not an object");
  return value as unknown as Envelope;
}

export function createChannel(options: ChannelOptions): Channel {
  const peer: Sender = options.self === "sidecar" ? "remote" : "sidecar";
  let sent = 0;
  let expected = 0;
  const channel: Channel = {
    session: null,
    peerKey: options.peerKey,
    get sent() {
      return sent;
    },
    seal(type, body, requestId = null) {
      const text = signFrame(
        {
          v: RELAY_PROTOCOL_VERSION,
          type,
          from: options.self,
          session: channel.session,
          seq: sent,
          request_id: requestId,
          sent_at: new Date(options.clock.now()).toISOString(),
          body,
        },
        options.privateKey,
      );
      sent += 1;
      return text;
    },
    open(raw, verifyWith) {
      const text = typeof raw === "string" ? raw : raw.toString("utf8");
      if (Buffer.byteLength(text, "utf8") > options.maxMessageBytes)
        throw new ProtocolViolation("too_large", "message above the size limit");
      const frame = splitFrame(text);
      if (frame === undefined) throw new ProtocolViolation("malformed", "not a signed relay frame");
      const envelope = parseEnvelope(frame.text);
      if (envelope.from !== peer || !SENDS[peer].has(envelope.type))
        throw new ProtocolViolation("unexpected_type", `${envelope.from} may not send ${envelope.type} here`);
      const key = verifyWith ?? channel.peerKey;
      if (key === undefined || !verifyFrame(frame, key))
        throw new ProtocolViolation("bad_signature", "signature does not verify");
      // The remote names the session in its challenge, the first message it sends.
      if (options.self === "sidecar" && channel.session === null && envelope.type === "challenge") {
        if (envelope.session === null)
          throw new ProtocolViolation("wrong_session", "challenge without a session");
        channel.session = envelope.session;
      }
      // Hello comes before any session exists; after it every message must name the session.
      const sessionOk =
        envelope.type === "hello" ? envelope.session === null : envelope.session === channel.session;
      if (!sessionOk) throw new ProtocolViolation("wrong_session", "message of another relay session");
      if (envelope.seq !== expected)
        throw new ProtocolViolation(
          "replayed_or_reordered",
          `expected sequence ${expected}, got ${envelope.seq}`,
        );
      const skew = Math.abs(Date.parse(envelope.sent_at) - options.clock.now());
      if (skew > options.maxClockSkewMs)
        throw new ProtocolViolation(
          "clock_skew",
          `sent_at is ${Math.round(skew / 1000)} s away from this clock`,
        );
      expected += 1;
      return envelope;
    },
  };
  return channel;
}
