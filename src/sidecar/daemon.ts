// The sidecar daemon (`ibkr-agent sidecar run`): beside the user's Client Portal Gateway, it keeps one
// outbound WebSocket over TLS to the remote gateway's relay endpoint (no inbound port on the user's
// machine), proves its paired key, sends heartbeats, and runs every forwarded call through its own
// gateway's dispatcher - the same path as the CLI, SDK and MCP - with its own config, scopes, kill switch,
// live policy, idempotency and audit log. It reconnects with jittered exponential back-off.
//
// It takes the composed gateway as a parameter (the CLI composes it), so this module stays below the front
// doors in the layering.
import { type KeyObject, randomBytes } from "node:crypto";
import { WebSocket } from "ws";
import { isScopeName, type ScopeName } from "../../generated/scopes.gen.ts";
import { isToolName } from "../../generated/tools/registry.gen.ts";
import type { CallContext } from "../core/call-context.ts";
import type { Clock } from "../core/clock.ts";
import { GatewayError, toGatewayError } from "../core/gateway-error.ts";
import type { Logger } from "../core/logger.ts";
import { assertForwardable, assertTierAccepted } from "./forward-policy.ts";
import { fingerprintOf } from "./identity.ts";
import {
  type Channel,
  CLOSE_CODES,
  type CloseReason,
  checkBody,
  checkedBody,
  createChannel,
  type Envelope,
  type Limits,
  ProtocolViolation,
  parseEnvelope,
  payloadHash,
  payloadHashKey,
  publicKeyFromRaw,
  splitFrame,
  type WireErrorBody,
} from "./protocol/index.ts";
import type { RelayAuditor } from "./relay-audit.ts";
import type { DaemonState, SidecarStatus } from "./relay-status.ts";

type Outcome =
  | { readonly ok: true; readonly result: unknown; readonly auditEventId: string }
  | { readonly ok: false; readonly error: GatewayError };

/** What the daemon uses of its gateway (src/gateway's Gateway fits). */
export interface DaemonGateway {
  readonly dispatcher: {
    dispatch(tool: string, args: unknown, context: CallContext): Promise<Outcome>;
    refuse(tool: never, args: unknown, context: CallContext, error: GatewayError): Promise<Outcome>;
  };
  readonly localScopes: ReadonlySet<ScopeName>;
}

/** The sidecar's side of its pairing (src/sidecar/pairing.ts owns the record). */
export interface LocalPairingView {
  readonly pairingId: string;
  readonly status: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  /** The remote's Ed25519 public key (raw, base64url), learnt when pairing. */
  readonly remotePublicKey: string;
  readonly remoteInstanceId: string;
}

export interface DaemonOptions {
  readonly gateway: DaemonGateway;
  /** wss://host/relay */
  readonly url: string;
  /** PEM of the CA that signs the remote's certificate, when it is not a public one. */
  readonly ca?: string | Buffer;
  readonly privateKey: KeyObject;
  /** The sidecar's public key, raw base64url. */
  readonly publicKey: string;
  readonly sidecarId: string;
  /** Read on every handshake and call, so a pairing revoked on this machine stops the relay at once. */
  readonly pairing: () => LocalPairingView | undefined;
  /** Tiers this sidecar accepts over the relay (sidecar.accepted_tiers). */
  readonly acceptedTiers: readonly string[];
  readonly audit: RelayAuditor;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The relay limits (relayLimits(loaded) for a profile's configuration). */
  readonly limits: Limits;
  /** The remote confirmed the pairing at a handshake (the sidecar marks it active with its expiry). */
  readonly onConfirmed?: (pairingId: string, expiresAt: number) => void;
  /**
   * The pairing ended for good: the remote said it was revoked or expired, or it expired here. The daemon
   * has stopped reconnecting; the CLI ends the local record and exits with the message to pair again.
   */
  readonly onPairingEnded?: (ended: PairingEnded) => void;
  /** Called with every status change (the CLI writes it to the status file). */
  readonly publish?: (status: SidecarStatus) => void;
  /** Back-off: first delay and cap, in milliseconds. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly random?: () => number;
}

export interface PairingEnded {
  readonly pairingId: string;
  readonly reason: "pairing_revoked" | "pairing_expired";
  /** SIDECAR_SESSION_INVALID with the message and the user action: pair again. */
  readonly error: GatewayError;
}

export interface Daemon {
  readonly state: DaemonState;
  status(): SidecarStatus;
  /** Resolves when the daemon reaches this state (tests, and the CLI's first "connected" line). */
  waitFor(state: DaemonState): Promise<SidecarStatus>;
  stop(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** At most this often, the status is published for counter and heartbeat changes alone. */
const PROGRESS_PUBLISH_MS = 1000;

function wireError(error: GatewayError, auditEventId: string | null): WireErrorBody {
  return {
    code: error.code,
    message: error.message,
    user_action: error.userAction,
    retryable: error.retryable,
    audit_event_id: auditEventId,
    ...(error.details !== undefined ? { details: error.details } : {}),
  };
}

export function startDaemon(options: DaemonOptions): Daemon {
  const { clock, logger, gateway } = options;
  const { limits } = options;
  const backoff = options.backoff ?? { baseMs: 1000, maxMs: 60_000 };
  const random = options.random ?? Math.random;
  // relay:sidecar:<uuid>: the sidecar id with a colon, so no 40-character run looks like an opaque token.
  const principal = relayPrincipal(options.sidecarId);
  let state: DaemonState = "connecting";
  let ws: WebSocket | undefined;
  let channel: Channel | undefined;
  let sessionId: string | null = null;
  let sessionExpiresAt: string | null = null;
  let hashKey: KeyObject | undefined;
  /** The pairing the remote authenticated this sidecar by (its ready message). */
  let pairingId: string | null = null;
  let lastSent: number | null = null;
  let lastReceived: number | null = null;
  let inFlight = 0;
  let completed = 0;
  let reconnects = 0;
  let attempt = 0;
  let lastError: SidecarStatus["last_error"] = null;
  let stopped = false;
  /** The pairing ended for good (revoked or expired): no more connection attempts. */
  let ended: PairingEnded | null = null;
  let retryTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  const waiters: { state: DaemonState; resolve: (status: SidecarStatus) => void }[] = [];

  const status = (): SidecarStatus => ({
    schema: 1,
    pid: process.pid,
    state,
    remote_url: options.url,
    relay_session_id: sessionId,
    session_expires_at: sessionExpiresAt,
    last_heartbeat_sent_at: lastSent === null ? null : iso(lastSent),
    last_heartbeat_received_at: lastReceived === null ? null : iso(lastReceived),
    in_flight: inFlight,
    calls_completed: completed,
    reconnects,
    last_error: lastError,
    updated_at: iso(clock.now()),
  });
  const publish = () => {
    if (progressTimer !== undefined) clearTimeout(progressTimer);
    progressTimer = undefined;
    lastPublished = clock.now();
    const current = status();
    try {
      options.publish?.(current);
    } catch (error) {
      logger.warn("the sidecar status could not be published", { error });
    }
    for (const waiter of waiters.splice(0)) {
      if (waiter.state === state) waiter.resolve(current);
      else waiters.push(waiter);
    }
  };
  // Counters and heartbeats change on every call; the status file (written by the CLI) follows them at most
  // once a second, with a trailing write so it ends current. State changes are published at once.
  let lastPublished = 0;
  let progressTimer: NodeJS.Timeout | undefined;
  const publishProgress = () => {
    if (progressTimer !== undefined) return;
    const wait = PROGRESS_PUBLISH_MS - (clock.now() - lastPublished);
    if (wait <= 0) publish();
    else {
      progressTimer = setTimeout(publish, wait);
      progressTimer.unref();
    }
  };
  const setState = (next: DaemonState) => {
    state = next;
    publish();
  };

  const sessionAudit = () => ({ principal, ...(sessionId !== null ? { sessionId } : {}) });
  /** What every relay session event of this side names: the session and this sidecar. */
  const sessionFacts = () => ({
    side: "sidecar" as const,
    relay_session_id: sessionId ?? undefined,
    sidecar_id: options.sidecarId,
  });
  const refusedLocally = (check: string) =>
    options.audit(sessionAudit(), {
      type: "relay_session_refused",
      decision: "refuse",
      status: "refused",
      errorCode: "SIDECAR_SESSION_INVALID",
      metadata: { check, ...sessionFacts() },
    });

  function usablePairing(): LocalPairingView | undefined {
    const pairing = options.pairing();
    return pairing !== undefined && pairing.status === "active" && pairing.expiresAt > clock.now()
      ? pairing
      : undefined;
  }

  function send(text: string): void {
    if (ws !== undefined && ws.readyState === ws.OPEN) ws.send(text);
  }

  function scheduleReconnect(): void {
    if (stopped || ended !== null) return;
    // Full jitter: a fleet of sidecars that lost the remote together does not come back together.
    const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt, 20));
    const delay = Math.round(random() * ceiling);
    attempt += 1;
    if (state !== "refused") setState("backoff");
    retryTimer = setTimeout(connect, delay);
  }

  function heartbeat(): void {
    if (channel === undefined || sessionId === null) return;
    const now = clock.now();
    // A remote that stopped answering is as gone as a closed socket: start over.
    if (lastReceived !== null && now - lastReceived > limits.heartbeat_timeout_seconds * 1000) {
      logger.warn("the remote went silent; reconnecting", { relay_session_id: sessionId });
      ws?.terminate();
      return;
    }
    send(channel.seal("heartbeat", { in_flight: inFlight }));
    lastSent = now;
    publishProgress();
  }

  async function execute(
    envelope: Envelope,
    current: Channel,
    key: KeyObject,
    session: string,
  ): Promise<void> {
    const body = checkedBody(envelope, "call");
    const requestId = envelope.request_id;
    if (requestId === null) throw new ProtocolViolation("malformed", "call without a request id");
    if (payloadHash(key, requestId, body.tool, body.arguments) !== body.payload_hash)
      throw new ProtocolViolation("malformed", "payload hash does not match the call");
    const answer = (outcome: Outcome) => {
      if (current !== channel) return; // the session this call came on has ended; nobody waits for it
      send(
        outcome.ok
          ? current.seal(
              "result",
              {
                result: outcome.result,
                payload_hash: body.payload_hash,
                audit_event_id: outcome.auditEventId,
              },
              requestId,
            )
          : current.seal("error", wireError(outcome.error, outcome.error.auditEventId ?? null), requestId),
      );
    };
    // The remote's grant, narrowed to what this machine's own configuration allows.
    const scopes = new Set<ScopeName>(
      body.granted_scopes.filter((s): s is ScopeName => isScopeName(s) && gateway.localScopes.has(s)),
    );
    // The relay facts travel in the context: the dispatcher writes them into the call's one tool_call event,
    // with the same request id and payload hash as the remote's event of this call.
    const context: CallContext = {
      frontDoor: "relay",
      principal,
      scopes,
      requestId,
      sessionId: session,
      relay: {
        side: "sidecar",
        relaySessionId: session,
        sidecarId: options.sidecarId,
        payloadHash: body.payload_hash,
        ...(pairingId !== null ? { pairingId } : {}),
      },
    };
    inFlight += 1;
    publishProgress();
    let outcome: Outcome;
    try {
      outcome = await run(body.tool, body.arguments, body.granted_scopes, context);
    } catch (error) {
      outcome = { ok: false, error: toGatewayError(error) };
    } finally {
      inFlight -= 1;
    }
    completed += 1;
    answer(outcome);
    publishProgress();
    if (!outcome.ok && outcome.error.code === "SIDECAR_SESSION_INVALID" && usablePairing() === undefined)
      close("pairing_revoked", CLOSE_CODES.sessionInvalid);
  }

  /**
   * The sidecar's own checks of a relayed call - a usable pairing, the in-flight cap, its tier policy and its
   * payload screen - then the dispatcher. A refusal by any of them is recorded as the call's tool_call.
   */
  async function run(
    tool: string,
    args: Record<string, unknown>,
    granted: readonly string[],
    context: CallContext,
  ): Promise<Outcome> {
    if (!isToolName(tool)) return gateway.dispatcher.dispatch(tool, args, context);
    const refuse = (error: unknown) =>
      gateway.dispatcher.refuse(tool as never, args, context, toGatewayError(error));
    if (usablePairing() === undefined) return refuse(new GatewayError("SIDECAR_SESSION_INVALID"));
    // This call is already counted in inFlight.
    if (inFlight > limits.max_in_flight)
      return refuse(
        new GatewayError("SIDECAR_UNAVAILABLE", {
          message: `The sidecar already runs ${limits.max_in_flight} relayed calls.`,
          userAction: "Retry in a moment.",
        }),
      );
    try {
      assertTierAccepted(tool, options.acceptedTiers);
      assertForwardable({ tool, arguments: args, granted_scopes: granted }, "sidecar");
    } catch (error) {
      return refuse(error);
    }
    return gateway.dispatcher.dispatch(tool, args, context);
  }

  function close(reason: CloseReason, code: number): void {
    if (channel !== undefined && sessionId !== null) send(channel.seal("close", { reason }));
    ws?.close(code);
  }

  /** The pairing will not serve again: stop for good and tell the person to pair again. */
  function endPairing(pairingId: string, reason: PairingEnded["reason"]): void {
    if (ended !== null) return;
    const what =
      reason === "pairing_expired"
        ? "The pairing with the remote gateway has expired."
        : "The remote gateway revoked this sidecar's pairing.";
    const error = new GatewayError("SIDECAR_SESSION_INVALID", {
      message: `${what} The sidecar stopped connecting to it.`,
      userAction:
        "Pair again: ask the remote's operator for a new pairing code (`ibkr-agent sidecar pairing create` there), then run `ibkr-agent sidecar pair CODE --remote URL` here and start `ibkr-agent sidecar run` again.",
      retryable: false,
    });
    ended = { pairingId, reason, error };
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    lastError = { code: error.code, message: `${error.message} ${error.userAction}` };
    logger.warn(`${what} Not reconnecting; pair again, then restart the sidecar.`, {
      pairing_id: pairingId,
      reason,
    });
    try {
      options.onPairingEnded?.(ended);
    } catch (thrown) {
      logger.warn("the ended pairing could not be recorded", { error: thrown });
    }
    setState("refused");
  }

  function connect(): void {
    if (stopped || ended !== null) return;
    const local = options.pairing();
    if (local !== undefined && local.status === "active" && local.expiresAt <= clock.now()) {
      endPairing(local.pairingId, "pairing_expired");
      return;
    }
    const pairing = usablePairing();
    const remoteKey = pairing !== undefined ? publicKeyFromRaw(pairing.remotePublicKey) : undefined;
    if (pairing === undefined || remoteKey === undefined) {
      lastError = {
        code: "SIDECAR_PAIRING_REQUIRED",
        message: "This sidecar has no active pairing with a usable remote key.",
      };
      setState("refused");
      scheduleReconnect();
      return;
    }
    setState("connecting");
    const current = createChannel({
      self: "sidecar",
      privateKey: options.privateKey,
      peerKey: remoteKey,
      clock,
      maxMessageBytes: limits.max_message_bytes,
      maxClockSkewMs: limits.max_clock_skew_seconds * 1000,
    });
    channel = current;
    sessionId = null;
    sessionExpiresAt = null;
    hashKey = undefined;
    const nonce = randomBytes(24).toString("base64url");
    const refuseRemoteKey = (presented: string, stored: string) => {
      lastError = {
        code: "SIDECAR_SESSION_INVALID",
        message: `The remote presented the key ${fingerprintOf(presented)}, not the key ${fingerprintOf(stored)} this sidecar paired with; nothing was sent to it. If its operator replaced its identity, pair again.`,
      };
      logger.warn("refused the remote: its key is not the one paired", {
        presented_fingerprint: fingerprintOf(presented),
        paired_fingerprint: fingerprintOf(stored),
      });
      refusedLocally("remote_key");
      setState("refused");
      socket.close(CLOSE_CODES.protocolViolation);
    };
    let stage: "challenge" | "ready" | "open" = "challenge";
    let sessionKey: KeyObject | undefined;
    let heartbeatMs = limits.heartbeat_interval_seconds * 1000;
    const socket = new WebSocket(options.url, {
      maxPayload: limits.max_message_bytes,
      handshakeTimeout: 10_000,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    ws = socket;
    socket.on("open", () => {
      socket.send(
        current.seal("hello", { sidecar_key: options.publicKey, sidecar_id: options.sidecarId, nonce }),
      );
    });
    /** The reason of the remote's close message, when it sent one. */
    let remoteClose: string | null = null;
    socket.on("message", (raw: Buffer, isBinary: boolean) => {
      try {
        if (isBinary) throw new ProtocolViolation("malformed", "binary frame");
        // Before the challenge is verified (with the stored key), the key it presents is compared with
        // the stored one, so a remote with another key is refused for what it is.
        if (stage === "challenge") {
          const presented = presentedRemoteKey(raw);
          if (presented !== undefined && presented !== pairing.remotePublicKey) {
            refuseRemoteKey(presented, pairing.remotePublicKey);
            return;
          }
        }
        // The channel takes the session id from the remote's (verified) challenge.
        const envelope = current.open(raw);
        checkBody(envelope);
        lastReceived = clock.now();
        if (envelope.type === "error") {
          const error = envelope.body as WireErrorBody;
          lastError = { code: error.code, message: error.message };
          if (stage !== "open") setState("refused");
          return;
        }
        if (envelope.type === "close") {
          remoteClose = checkedBody(envelope, "close").reason;
          socket.close(CLOSE_CODES.normal);
          return;
        }
        if (stage === "challenge") {
          const body = checkedBody(envelope, "challenge");
          if (body.nonce !== nonce || body.remote_instance_id !== pairing.remoteInstanceId)
            throw new ProtocolViolation(
              "bad_signature",
              "challenge for another sidecar or from another remote",
            );
          sessionKey = payloadHashKey(body.challenge, current.session as string);
          // Beat at least as often as the remote expects, whichever of the two configurations is stricter.
          heartbeatMs =
            Math.min(limits.heartbeat_interval_seconds, body.limits.heartbeat_interval_seconds ?? Infinity) *
            1000;
          socket.send(
            current.seal("auth", { challenge: body.challenge, remote_instance_id: body.remote_instance_id }),
          );
          stage = "ready";
          return;
        }
        if (stage === "ready") {
          const body = checkedBody(envelope, "ready");
          if (body.pairing_id !== pairing.pairingId)
            throw new ProtocolViolation("unexpected_type", "the remote authenticated another pairing");
          options.onConfirmed?.(body.pairing_id, Date.parse(body.pairing_expires_at));
          pairingId = body.pairing_id;
          stage = "open";
          sessionId = current.session;
          sessionExpiresAt = body.session_expires_at;
          hashKey = sessionKey;
          attempt = 0;
          lastError = null;
          options.audit(sessionAudit(), {
            type: "relay_session_opened",
            decision: "allow",
            status: "completed",
            metadata: {
              ...sessionFacts(),
              pairing_id: pairing.pairingId,
              expires_at: body.session_expires_at,
            },
          });
          logger.info("relay session opened", { relay_session_id: sessionId });
          heartbeatTimer = setInterval(heartbeat, heartbeatMs);
          setState("connected");
          return;
        }
        if (envelope.type === "heartbeat") {
          publishProgress();
          return;
        }
        if (envelope.type === "call" && hashKey !== undefined && sessionId !== null) {
          void execute(envelope, current, hashKey, sessionId).catch((error) => {
            if (error instanceof ProtocolViolation) {
              refusedLocally(error.violation);
              close("protocol_violation", CLOSE_CODES.protocolViolation);
            } else logger.error("a relayed call failed unexpectedly", { error });
          });
          return;
        }
        throw new ProtocolViolation("unexpected_type", `${envelope.type} here`);
      } catch (error) {
        if (!(error instanceof ProtocolViolation)) {
          logger.error("the relay connection failed", { error });
          socket.terminate();
          return;
        }
        lastError = {
          code: "SIDECAR_SESSION_INVALID",
          message: `refused a remote message: ${error.violation}`,
        };
        refusedLocally(stage === "challenge" ? "remote_key" : error.violation);
        close("protocol_violation", CLOSE_CODES.protocolViolation);
      }
    });
    socket.on("error", (error: Error & { code?: string }) => {
      lastError = { code: "SIDECAR_UNAVAILABLE", message: `connection failed (${error.code ?? error.name})` };
      logger.warn("the relay connection failed", { code: error.code ?? error.name });
    });
    socket.on("close", (code: number) => {
      if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
      heartbeatTimer = undefined;
      const hadSession = sessionId !== null;
      if (hadSession) {
        options.audit(sessionAudit(), {
          type: "relay_session_closed",
          decision: "allow",
          status: "completed",
          metadata: {
            ...sessionFacts(),
            pairing_id: pairing.pairingId,
            reason: remoteClose ?? closeReason(code),
            calls_failed: inFlight,
          },
        });
      }
      if (channel === current) {
        channel = undefined;
        sessionId = null;
        hashKey = undefined;
      }
      if (ws === socket) ws = undefined;
      if (stopped) return;
      if (remoteClose === "pairing_revoked" || remoteClose === "pairing_expired") {
        endPairing(pairing.pairingId, remoteClose);
        return;
      }
      reconnects += hadSession ? 1 : 0;
      // An expired session is renewed at once; anything else waits its turn in the back-off.
      if (code === CLOSE_CODES.sessionExpired) attempt = 0;
      if (code === CLOSE_CODES.pairingRequired || code === CLOSE_CODES.sessionInvalid) setState("refused");
      scheduleReconnect();
    });
  }

  connect();

  return {
    get state() {
      return state;
    },
    status,
    waitFor(wanted) {
      if (state === wanted) return Promise.resolve(status());
      return new Promise((resolve) => waiters.push({ state: wanted, resolve }));
    },
    async stop() {
      stopped = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
      const socket = ws;
      if (socket !== undefined && socket.readyState !== socket.CLOSED) {
        const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        close("shutdown", CLOSE_CODES.normal);
        const timer = setTimeout(() => socket.terminate(), 2000);
        await closed;
        clearTimeout(timer);
      }
      setState("stopped");
    },
  };
}

/** The remote key an (unverified) challenge presents, when the message is one. */
function presentedRemoteKey(raw: Buffer): string | undefined {
  const frame = splitFrame(raw.toString("utf8"));
  if (frame === undefined) return undefined;
  try {
    const envelope = parseEnvelope(frame.text);
    const key = (envelope.body as { remote_key?: unknown }).remote_key;
    return envelope.type === "challenge" && typeof key === "string" ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The principal of the calls a sidecar runs for its remote (contracts/audit-events.yaml, principal). */
export function relayPrincipal(sidecarId: string): string {
  return `relay:${sidecarId.replace(/^sidecar-/, "sidecar:")}`;
}

function closeReason(code: number): string {
  switch (code) {
    case CLOSE_CODES.normal:
      return "shutdown";
    case CLOSE_CODES.heartbeatTimeout:
      return "heartbeat_timeout";
    case CLOSE_CODES.replaced:
      return "replaced";
    case CLOSE_CODES.sessionExpired:
      return "session_expired";
    case CLOSE_CODES.sessionInvalid:
      return "pairing_revoked";
    case CLOSE_CODES.protocolViolation:
    case CLOSE_CODES.tooBig:
      return "protocol_violation";
    default:
      return "connection_lost";
  }
}
