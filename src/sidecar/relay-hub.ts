// The remote end of the relay: the WebSocket endpoint sidecars connect to (GET /relay, upgraded), the
// registry of live relay sessions (one per user: the principal the pairing is bound to) and the forwarder
// the remote gateway's dispatcher calls instead of a workflow (broker.backend: relay). The remote keeps no
// broker or order state: it checks the token, scopes and schema (the dispatcher did that before forward
// is called), routes the call to the user's paired, live sidecar and hands back what the sidecar answered.
import { createHash, createPublicKey, type KeyObject, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import type { OperationContext, RelayCallFacts } from "../core/call-context.ts";
import type { Clock } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { uuidv7 } from "../core/ids.ts";
import type { Logger } from "../core/logger.ts";
import { assertForwardable } from "./forward-policy.ts";
import {
  type Channel,
  CLOSE_CODES,
  type CloseReason,
  checkBody,
  checkedBody,
  createChannel,
  type Envelope,
  HANDSHAKE_TIMEOUT_MS,
  type Limits,
  ProtocolViolation,
  payloadHash,
  payloadHashKey,
  publicKeyFromRaw,
  RELAY_PATH,
  rawPublicKey,
  splitFrame,
  type WireErrorBody,
} from "./protocol/index.ts";
import type { RelayAuditor } from "./relay-audit.ts";

/** What the hub needs to know of a pairing (src/sidecar/pairing.ts owns the records). */
export interface RelayPairingView {
  readonly pairingId: string;
  readonly sidecarId: string;
  /** The user's principal (oauth:<hash>), as the HTTP front door computes it for that user's tokens. */
  readonly principal: string;
  readonly status: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  /** The sidecar's Ed25519 public key, raw 32 bytes base64url. */
  readonly publicKey: string;
  readonly acceptedTiers?: readonly string[];
}

export interface RelayPairings {
  /** The pairing of this public key, whatever its status; undefined when the key was never paired. */
  byPublicKey(publicKey: string): RelayPairingView | undefined;
  /** The user's pairing (the active one if any), whatever its status; undefined when never paired. */
  forPrincipal(principal: string): RelayPairingView | undefined;
}

export interface RelayHubOptions {
  readonly pairings: RelayPairings;
  /** The remote's own signing key and instance id (the sidecar verifies every remote message with it). */
  readonly privateKey: KeyObject;
  readonly instanceId: string;
  readonly audit: RelayAuditor;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: Limits;
  readonly sessionTtlMs: number;
  /** The sidecar id a public key stands for (ids are derived from keys; hello must name the right one). */
  readonly sidecarIdOf?: (publicKey: string) => string;
  /** Publishes a session's state for `sidecar status` in other processes (open, heartbeats, close). */
  readonly publish?: (status: RelaySessionStatus, state: "connected" | "closed", detail?: string) => void;
}

export interface RelaySessionStatus {
  readonly principal: string;
  readonly sidecar_id: string;
  readonly pairing_id: string;
  readonly relay_session_id: string;
  readonly connected_at: string;
  readonly last_heartbeat_at: string;
  readonly session_expires_at: string;
  readonly in_flight: number;
  readonly live: boolean;
}

export interface RelayHub {
  /** The HTTP server's `upgrade` listener: takes GET /relay, refuses every other upgrade. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Runs one authorized tool call on the caller's sidecar; throws a GatewayError when it cannot. */
  forward(args: Record<string, unknown>, context: OperationContext): Promise<unknown>;
  /** Ends sessions whose sidecar went silent or whose time is up. Also runs every second on a timer. */
  sweep(): void;
  status(): RelaySessionStatus[];
  /** True until close(): the hub takes new sidecar connections and routes calls (the remote's /readyz). */
  readonly accepting: boolean;
  close(): Promise<void>;
}

interface Pending {
  readonly resolve: (envelope: Envelope) => void;
  readonly reject: (error: GatewayError) => void;
}

interface Session {
  readonly id: string;
  readonly pairing: RelayPairingView;
  readonly channel: Channel;
  readonly ws: WebSocket;
  readonly hashKey: KeyObject;
  readonly connectedAt: number;
  readonly expiresAt: number;
  lastSeen: number;
  lastPublished: number;
  readonly pending: Map<string, Pending>;
  closed: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

function keySha256(raw: string): string {
  return createHash("sha256").update(Buffer.from(raw, "base64url")).digest("hex");
}

/** The key a hello names, read before anything is verified (the signature is then checked against it). */
function untrustedKey(raw: Buffer | string): string | undefined {
  const frame = splitFrame(raw.toString());
  if (frame === undefined) return undefined;
  try {
    const value = JSON.parse(frame.text) as { body?: { sidecar_key?: unknown } };
    return typeof value.body?.sidecar_key === "string" ? value.body.sidecar_key : undefined;
  } catch {
    return undefined;
  }
}

/** The error a sidecar sent, as the remote's caller sees it: its code, message and user action unchanged. */
function fromWire(body: WireErrorBody): GatewayError {
  return new GatewayError(body.code, {
    message: body.message,
    userAction: body.user_action,
    retryable: body.retryable,
    details: {
      ...(body.details ?? {}),
      ...(body.audit_event_id !== null ? { sidecar_audit_event_id: body.audit_event_id } : {}),
    },
  });
}

export function createRelayHub(options: RelayHubOptions): RelayHub {
  const { clock, logger, limits, audit, pairings } = options;
  const timeoutMs = limits.heartbeat_timeout_seconds * 1000;
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.max_message_bytes });
  const sessions = new Map<string, Session>();
  const handshakes = new Set<WebSocket>();
  let closed = false;
  const ownKey = rawPublicKey(createPublicKey(options.privateKey));

  const sessionAudit = (session: Session) => ({
    principal: session.pairing.principal,
    sessionId: session.id,
  });

  const statusOf = (s: Session): RelaySessionStatus => ({
    principal: s.pairing.principal,
    sidecar_id: s.pairing.sidecarId,
    pairing_id: s.pairing.pairingId,
    relay_session_id: s.id,
    connected_at: iso(s.connectedAt),
    last_heartbeat_at: iso(s.lastSeen),
    session_expires_at: iso(s.expiresAt),
    in_flight: s.pending.size,
    live: !s.closed && clock.now() - s.lastSeen <= timeoutMs,
  });
  function publish(session: Session, state: "connected" | "closed", detail?: string): void {
    session.lastPublished = clock.now();
    try {
      options.publish?.(statusOf(session), state, detail);
    } catch (error) {
      logger.warn("the relay status could not be published", { error });
    }
  }

  function end(session: Session, reason: CloseReason | "connection_lost", code: number): void {
    if (session.closed) return;
    session.closed = true;
    if (sessions.get(session.pairing.principal) === session) sessions.delete(session.pairing.principal);
    const failed = session.pending.size;
    for (const pending of session.pending.values()) {
      pending.reject(
        new GatewayError("SIDECAR_UNAVAILABLE", {
          message:
            "The sidecar's relay session ended before it answered, so whether the call ran is not known here.",
          userAction:
            "Retry once the sidecar is connected again; for an order, retry with the same idempotency key (the sidecar's idempotency record answers a repeated key with the original outcome, never a second order).",
        }),
      );
    }
    session.pending.clear();
    if (reason !== "connection_lost" && session.ws.readyState === session.ws.OPEN) {
      try {
        session.ws.send(session.channel.seal("close", { reason }));
      } catch {
        // the socket is going away anyway
      }
    }
    session.ws.close(code);
    publish(session, "closed", reason);
    audit(sessionAudit(session), {
      type: "relay_session_closed",
      decision: "allow",
      status: "completed",
      metadata: {
        relay_session_id: session.id,
        sidecar_id: session.pairing.sidecarId,
        pairing_id: session.pairing.pairingId,
        side: "remote",
        reason,
        calls_failed: failed,
      },
    });
    logger.info("relay session closed", { relay_session_id: session.id, reason });
  }

  function refuse(
    ws: WebSocket,
    check: string,
    found: { pairing?: RelayPairingView; key?: string; sessionId?: string },
    answer?: {
      channel: Channel;
      code: "SIDECAR_PAIRING_REQUIRED" | "SIDECAR_SESSION_INVALID";
      /** Why the pairing no longer serves (the sidecar stops reconnecting and asks to pair again). */
      ended?: CloseReason;
    },
  ): void {
    if (answer !== undefined && ws.readyState === ws.OPEN) {
      const error = new GatewayError(answer.code);
      ws.send(
        answer.channel.seal("error", {
          code: error.code,
          message: error.message,
          user_action: error.userAction,
          retryable: error.retryable,
          audit_event_id: null,
        }),
      );
      if (answer.ended !== undefined) ws.send(answer.channel.seal("close", { reason: answer.ended }));
    }
    const closeCode =
      answer?.code === "SIDECAR_PAIRING_REQUIRED"
        ? CLOSE_CODES.pairingRequired
        : answer?.code === "SIDECAR_SESSION_INVALID"
          ? CLOSE_CODES.sessionInvalid
          : check === "too_large"
            ? CLOSE_CODES.tooBig
            : CLOSE_CODES.protocolViolation;
    ws.close(closeCode);
    const authCheck = check === "pairing_required" || check === "pairing_inactive" || check === "challenge";
    audit(
      {
        principal: found.pairing?.principal ?? "anonymous",
        ...(found.sessionId ? { sessionId: found.sessionId } : {}),
      },
      {
        type: "relay_session_refused",
        decision: authCheck ? "deny" : "refuse",
        status: authCheck ? "denied_auth" : "refused",
        errorCode: answer?.code ?? (authCheck ? "SIDECAR_SESSION_INVALID" : "INPUT_INVALID_ARGUMENT"),
        metadata: {
          check,
          side: "remote",
          relay_session_id: found.sessionId,
          sidecar_id: found.pairing?.sidecarId,
          pairing_id: found.pairing?.pairingId,
          public_key_sha256: found.key !== undefined ? keySha256(found.key) : undefined,
        },
      },
    );
    logger.warn("relay connection refused", { check });
  }

  function usable(pairing: RelayPairingView | undefined): boolean {
    return pairing !== undefined && pairing.status === "active" && pairing.expiresAt > clock.now();
  }

  /** Why a pairing that is not usable ended: its time ran out, or someone revoked it. */
  function endedReason(pairing: RelayPairingView | undefined): "pairing_expired" | "pairing_revoked" {
    if (pairing === undefined) return "pairing_revoked";
    const timedOut =
      pairing.status === "expired" || (pairing.status === "active" && pairing.expiresAt <= clock.now());
    return timedOut ? "pairing_expired" : "pairing_revoked";
  }

  /** The handshake of one new connection: hello -> challenge -> auth -> ready, then the session's messages. */
  function accept(ws: WebSocket): void {
    handshakes.add(ws);
    const channel = createChannel({
      self: "remote",
      privateKey: options.privateKey,
      clock,
      maxMessageBytes: limits.max_message_bytes,
      maxClockSkewMs: limits.max_clock_skew_seconds * 1000,
    });
    let stage: "hello" | "auth" | "open" = "hello";
    let pairing: RelayPairingView | undefined;
    let key: string | undefined;
    let challenge = "";
    let session: Session | undefined;
    const timer = setTimeout(() => {
      if (stage !== "open")
        refuse(ws, "handshake_timeout", { pairing, key, sessionId: channel.session ?? undefined });
    }, HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      handshakes.delete(ws);
    };

    const onHello = (raw: Buffer | string) => {
      key = untrustedKey(raw);
      const publicKey = key !== undefined ? publicKeyFromRaw(key) : undefined;
      if (publicKey === undefined) throw new ProtocolViolation("malformed", "hello without a usable key");
      const hello = checkedBody(channel.open(raw, publicKey), "hello");
      pairing = pairings.byPublicKey(hello.sidecar_key);
      const derived = options.sidecarIdOf?.(hello.sidecar_key) ?? hello.sidecar_id;
      if (pairing === undefined || pairing.sidecarId !== hello.sidecar_id || derived !== hello.sidecar_id) {
        pairing = undefined;
        refuse(ws, "pairing_required", { key }, { channel, code: "SIDECAR_PAIRING_REQUIRED" });
        return;
      }
      if (!usable(pairing)) {
        refuse(
          ws,
          "pairing_inactive",
          { pairing, key },
          { channel, code: "SIDECAR_SESSION_INVALID", ended: endedReason(pairing) },
        );
        return;
      }
      channel.peerKey = publicKey;
      channel.session = `relay-${uuidv7(clock)}`;
      challenge = randomBytes(32).toString("base64url");
      ws.send(
        channel.seal("challenge", {
          challenge,
          nonce: hello.nonce,
          remote_key: ownKey,
          remote_instance_id: options.instanceId,
          session_expires_at: iso(Math.min(clock.now() + options.sessionTtlMs, pairing.expiresAt)),
          limits,
        }),
      );
      stage = "auth";
    };

    const onAuth = (raw: Buffer | string) => {
      const current = pairing as RelayPairingView;
      const sessionId = channel.session as string;
      const body = checkedBody(channel.open(raw), "auth");
      const given = Buffer.from(body.challenge);
      const expected = Buffer.from(challenge);
      if (
        given.length !== expected.length ||
        !timingSafeEqual(given, expected) ||
        body.remote_instance_id !== options.instanceId
      ) {
        refuse(
          ws,
          "challenge",
          { pairing: current, key, sessionId },
          { channel, code: "SIDECAR_SESSION_INVALID" },
        );
        return;
      }
      const now = clock.now();
      const expiresAt = Math.min(now + options.sessionTtlMs, current.expiresAt);
      session = {
        id: sessionId,
        pairing: current,
        channel,
        ws,
        hashKey: payloadHashKey(challenge, sessionId),
        connectedAt: now,
        expiresAt,
        lastSeen: now,
        lastPublished: 0,
        pending: new Map(),
        closed: false,
      };
      // One live session per user: a sidecar that reconnects (or a second copy) takes over.
      const previous = sessions.get(current.principal);
      if (previous !== undefined) end(previous, "replaced", CLOSE_CODES.replaced);
      sessions.set(current.principal, session);
      stage = "open";
      done();
      ws.send(
        channel.seal("ready", {
          session_expires_at: iso(expiresAt),
          pairing_id: current.pairingId,
          pairing_expires_at: iso(current.expiresAt),
        }),
      );
      audit(sessionAudit(session), {
        type: "relay_session_opened",
        decision: "allow",
        status: "completed",
        metadata: {
          relay_session_id: sessionId,
          sidecar_id: current.sidecarId,
          pairing_id: current.pairingId,
          side: "remote",
          expires_at: iso(expiresAt),
        },
      });
      publish(session, "connected");
      logger.info("relay session opened", { relay_session_id: sessionId });
    };

    const onSession = (raw: Buffer | string, open: Session) => {
      const envelope = channel.open(raw);
      checkBody(envelope);
      open.lastSeen = clock.now();
      switch (envelope.type) {
        case "heartbeat":
          ws.send(channel.seal("heartbeat", { in_flight: open.pending.size }));
          if (open.lastSeen - open.lastPublished >= 5000) publish(open, "connected");
          return;
        case "result":
        case "error": {
          const pending = envelope.request_id !== null ? open.pending.get(envelope.request_id) : undefined;
          // A late answer (after its timeout) has nobody waiting; it is dropped.
          if (pending !== undefined) pending.resolve(envelope);
          return;
        }
        case "close":
          end(open, "shutdown", CLOSE_CODES.normal);
          return;
        default:
          throw new ProtocolViolation("unexpected_type", `${envelope.type} after the handshake`);
      }
    };

    ws.on("message", (raw: Buffer, isBinary: boolean) => {
      try {
        if (isBinary) throw new ProtocolViolation("malformed", "binary frame");
        if (stage === "hello") onHello(raw);
        else if (stage === "auth") onAuth(raw);
        else if (session !== undefined && !session.closed) onSession(raw, session);
      } catch (error) {
        if (!(error instanceof ProtocolViolation)) throw error;
        done();
        const sessionId = channel.session ?? undefined;
        if (session !== undefined) end(session, "protocol_violation", CLOSE_CODES.protocolViolation);
        refuse(ws, error.violation, { pairing, key, ...(sessionId ? { sessionId } : {}) });
      }
    });
    ws.on("error", (error: Error & { code?: string }) => {
      // ws enforces maxPayload itself and reports it here before closing with 1009.
      if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
        done();
        if (session !== undefined) end(session, "protocol_violation", CLOSE_CODES.tooBig);
        refuse(ws, "too_large", { pairing, key, ...(channel.session ? { sessionId: channel.session } : {}) });
      }
    });
    ws.on("close", () => {
      done();
      if (session !== undefined) end(session, "connection_lost", CLOSE_CODES.normal);
    });
  }

  function sweep(): void {
    const now = clock.now();
    for (const session of [...sessions.values()]) {
      if (now - session.lastSeen > timeoutMs) end(session, "heartbeat_timeout", CLOSE_CODES.heartbeatTimeout);
      else if (now >= session.expiresAt && session.pending.size === 0)
        end(session, "session_expired", CLOSE_CODES.sessionExpired);
      else {
        const pairing = pairings.byPublicKey(session.pairing.publicKey);
        if (!usable(pairing)) end(session, endedReason(pairing), CLOSE_CODES.sessionInvalid);
      }
    }
  }
  const sweeper = setInterval(sweep, 1000);
  sweeper.unref();

  async function forward(args: Record<string, unknown>, context: OperationContext): Promise<unknown> {
    const tool: ToolName = context.tool;
    const tier = TOOLS[tool].tier;
    // Everything learnt here goes into the call's one tool_call event (the dispatcher writes it): which
    // session and pairing it went to, the payload hash the sidecar's event carries too, and what came back.
    const note = (facts: Omit<RelayCallFacts, "side">) => context.noteRelay?.({ side: "remote", ...facts });
    note({});
    const pairing = pairings.forPrincipal(context.principal);
    if (pairing === undefined) throw new GatewayError("SIDECAR_PAIRING_REQUIRED");
    note({ sidecarId: pairing.sidecarId, pairingId: pairing.pairingId });
    const live = sessions.get(context.principal);
    if (!usable(pairing)) {
      if (live !== undefined) end(live, endedReason(pairing), CLOSE_CODES.sessionInvalid);
      throw new GatewayError("SIDECAR_SESSION_INVALID", {
        message: "The pairing of this user's sidecar was revoked or has expired.",
        userAction:
          "Pair the sidecar again: `ibkr-agent sidecar pairing create` here, then `ibkr-agent sidecar pair CODE` on the user's machine.",
      });
    }
    if (live === undefined) throw new GatewayError("SIDECAR_UNAVAILABLE");
    note({ relaySessionId: live.id });
    const age = clock.now() - live.lastSeen;
    if (age > timeoutMs) {
      end(live, "heartbeat_timeout", CLOSE_CODES.heartbeatTimeout);
      note({ heartbeatAgeSeconds: Math.round(age / 1000) });
      throw new GatewayError("SIDECAR_UNAVAILABLE", {
        message: `The user's sidecar has sent nothing for ${Math.round(age / 1000)} s (the limit is ${limits.heartbeat_timeout_seconds} s).`,
      });
    }
    if (live.pairing.pairingId !== pairing.pairingId || clock.now() >= live.expiresAt) {
      end(live, "session_expired", CLOSE_CODES.sessionExpired);
      throw new GatewayError("SIDECAR_SESSION_INVALID");
    }
    if (pairing.acceptedTiers !== undefined && !pairing.acceptedTiers.includes(tier))
      throw new GatewayError("SIDECAR_TIER_REFUSED");
    // Throws SIDECAR_PAYLOAD_REFUSED with the path (never the value) the tool_call event records.
    assertForwardable({ tool, arguments: args, granted_scopes: [...context.scopes] }, "remote");
    if (live.pending.size >= limits.max_in_flight) {
      throw new GatewayError("SIDECAR_UNAVAILABLE", {
        message: `The sidecar already has ${limits.max_in_flight} calls in flight.`,
        userAction: "Retry in a moment.",
      });
    }
    const requestId = context.requestId;
    const hash = payloadHash(live.hashKey, requestId, tool, args);
    note({ payloadHash: hash });
    const timeout = limits.request_timeout_seconds * 1000;
    const sentAt = clock.now();
    const answer = await new Promise<Envelope | GatewayError>((resolve) => {
      const timer = setTimeout(() => {
        live.pending.delete(requestId);
        resolve(
          new GatewayError("SIDECAR_UNAVAILABLE", {
            message: `The sidecar did not answer within ${limits.request_timeout_seconds} s, so whether the call ran is not known here.`,
            userAction:
              "Check the sidecar; for an order, retry with the same idempotency key (a repeated key returns the original outcome, never a second order).",
          }),
        );
      }, timeout);
      live.pending.set(requestId, {
        resolve: (envelope) => {
          clearTimeout(timer);
          live.pending.delete(requestId);
          resolve(envelope);
        },
        reject: (error) => {
          clearTimeout(timer);
          resolve(error);
        },
      });
      live.ws.send(
        live.channel.seal(
          "call",
          {
            tool,
            arguments: args,
            granted_scopes: [...context.scopes].sort(),
            payload_hash: hash,
            timeout_ms: timeout,
          },
          requestId,
        ),
      );
    });
    if (answer instanceof GatewayError) throw answer;
    note({ answer: answer.type === "error" ? "error" : "result", roundTripMs: clock.now() - sentAt });
    if (answer.type === "error") throw fromWire(answer.body as WireErrorBody);
    const body = answer.body as { result: unknown; payload_hash: string };
    if (body.payload_hash !== hash) {
      end(live, "protocol_violation", CLOSE_CODES.protocolViolation);
      throw new GatewayError("SIDECAR_SESSION_INVALID", { message: "The sidecar answered another call." });
    }
    return body.result;
  }

  return {
    handleUpgrade(req, socket, head) {
      const path = new URL(req.url ?? "/", "http://upgrade.invalid").pathname;
      // A sidecar is not a browser: an Origin header means a web page is trying to open the relay.
      if (closed || path !== RELAY_PATH || req.headers.origin !== undefined || handshakes.size >= 64) {
        socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, accept);
    },
    forward,
    sweep,
    status: () => [...sessions.values()].map(statusOf),
    get accepting() {
      return !closed;
    },
    async close() {
      closed = true;
      clearInterval(sweeper);
      for (const session of [...sessions.values()]) end(session, "shutdown", CLOSE_CODES.normal);
      for (const ws of handshakes) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
