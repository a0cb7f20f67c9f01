// The CPAPI websocket (wss://<gateway>/v1/api/ws), for the one thing the gateway serves only there: market
// depth. One short-lived connection per request: connect with the very TLS decision the REST client makes
// (resolveTls over the same options: a pinned CA, or the localhost bypass, never anything weaker), answer
// the gateway's "waiting for session" with the session value of /tickle, subscribe `sbd+{acct}+{conid}[+exch]`
// once the gateway confirms the session, take the first book, send `ubd+{acct}` and close.
//
// The session value is a credential: it is sent only as the websocket's session message and never appears
// in an error, a log line or a result. Broker text from the socket is untrusted and kept only in
// details.broker_message.
import type WebSocket from "ws";
import { getTickle } from "../../generated/cpapi/client.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { backendUnavailable, classifyTransportFailure } from "./errors.ts";
import { resolveTls, type TlsOptions, type TlsSettings } from "./tls.ts";
import type { ClientTransport } from "./transport.ts";
import { DEFAULT_BASE_URL, hostPort, parseBaseUrl } from "./url.ts";

/** Connect, session hand-shake and the first book must all fit in this time (one "second or two" usually). */
export const DEPTH_BOOK_TIMEOUT_MS = 5_000;
/** Largest websocket message accepted from the gateway (a depth ladder is a few KiB). */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024;
const DEFAULT_CONNECT_MS = 5_000;
const MAX_BROKER_MESSAGE = 500;

/** What a websocket connection reports; each connection calls onClose exactly once, last. */
export interface WebSocketHandlers {
  onOpen(): void;
  /** One text message (binary messages are not part of the CPAPI protocol and are dropped). */
  onMessage(text: string): void;
  onClose(code: number): void;
  /**
   * A failure to connect or of the connection: a Node network error (with `code`), or
   * `{ code: "WS_UPGRADE_REFUSED", status }` when the gateway answered the upgrade with plain HTTP.
   */
  onError(error: unknown): void;
}

export interface WebSocketLike {
  send(text: string): void;
  close(code?: number): void;
}

/** A way to open the gateway's websocket: over TLS to a real gateway, or in-process to the simulator. */
export interface CpapiWebSocket {
  /** host:port, for messages. */
  readonly where: string;
  open(handlers: WebSocketHandlers): WebSocketLike;
}

export const UPGRADE_REFUSED = "WS_UPGRADE_REFUSED";

export interface CpapiWebSocketOptions extends TlsOptions {
  /** The REST base URL (default https://localhost:5000/v1/api); the websocket is `<base>/ws` over wss. */
  baseUrl?: string;
  timeouts?: { connectMs?: number };
}

export interface CpapiWebSocketConnector extends CpapiWebSocket {
  /** The TLS mode in use, which is the REST client's mode for the same options. */
  readonly tlsMode: TlsSettings["mode"];
  readonly url: string;
}

/** The websocket of a real Client Portal Gateway, trusting exactly what the REST client trusts. */
export function createCpapiWebSocket(options: CpapiWebSocketOptions = {}): CpapiWebSocketConnector {
  const base = parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const tls = resolveTls(base, options);
  const url = new URL(base.href);
  url.protocol = "wss:";
  url.pathname = `${base.pathname}/ws`;
  const connectMs = options.timeouts?.connectMs ?? DEFAULT_CONNECT_MS;
  return {
    where: hostPort(base),
    tlsMode: tls.mode,
    url: url.href,
    open(handlers) {
      let socket: WebSocket | null = null;
      let closeWanted: number | null = null;
      let closed = false;
      const onClose = (code: number) => {
        if (closed) return;
        closed = true;
        handlers.onClose(code);
      };
      // `ws` is loaded on first use: most commands never open a websocket, and it costs start-up time.
      import("ws").then(
        ({ default: WebSocketClass }) => {
          if (closeWanted !== null) {
            onClose(closeWanted);
            return;
          }
          const ws = new WebSocketClass(url, {
            handshakeTimeout: connectMs,
            rejectUnauthorized: tls.rejectUnauthorized,
            ...(tls.ca !== null ? { ca: tls.ca } : {}),
            maxPayload: MAX_WEBSOCKET_MESSAGE_BYTES,
            perMessageDeflate: false,
            followRedirects: false,
          });
          socket = ws;
          ws.on("open", () => handlers.onOpen());
          ws.on("message", (data, isBinary) => {
            if (isBinary) return;
            const text = Array.isArray(data)
              ? Buffer.concat(data).toString("utf8")
              : Buffer.from(data as ArrayBuffer).toString("utf8");
            handlers.onMessage(text);
          });
          ws.on("unexpected-response", (request, response) => {
            handlers.onError({ code: UPGRADE_REFUSED, status: response.statusCode ?? 0 });
            response.resume();
            request.destroy();
          });
          ws.on("error", (error) => handlers.onError(error));
          ws.on("close", (code) => onClose(code));
        },
        (error: unknown) => handlers.onError(error),
      );
      return {
        send(text) {
          if (socket !== null && socket.readyState === socket.OPEN) socket.send(text);
        },
        close(code = 1000) {
          if (socket === null) closeWanted = code;
          else if (socket.readyState === socket.OPEN) socket.close(code);
          else if (socket.readyState === socket.CONNECTING) socket.terminate();
        },
      };
    },
  };
}

export interface DepthBookRequest {
  readonly accountId: string;
  readonly conid: string;
  /** The exchange part of the topic; omitted, the broker picks (all its deep venues for the contract). */
  readonly exchange?: string;
  /** Default DEPTH_BOOK_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

export interface DepthBook {
  /** The ladder rows of the first book message (its `data` array), as the gateway sent them. */
  readonly rows: readonly unknown[];
}

const ACCOUNT_ID = /^[A-Za-z0-9]{1,32}$/;
const CONID = /^[0-9]{1,12}$/;
const EXCHANGE = /^[A-Z0-9._-]{1,16}$/;

function invalidArgument(field: string, message: string): GatewayError {
  return new GatewayError("INPUT_INVALID_ARGUMENT", { message, details: { field } });
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function brokerText(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  return value.trim().slice(0, MAX_BROKER_MESSAGE);
}

/** A ladder row carries a price and a bid or ask size; an empty ladder has none. */
function hasLevel(rows: readonly unknown[]): boolean {
  return rows.some((row) => {
    const r = record(row);
    if (r === null || r.price === undefined || r.price === null) return false;
    const size = (v: unknown) => (typeof v === "number" ? v > 0 : typeof v === "string" && /[1-9]/.test(v));
    return size(r.bid) || size(r.ask) || size(r.bidSize) || size(r.askSize);
  });
}

/** The `session` value of /tickle: what the websocket asks for instead of the browser's cookie. */
async function sessionValue(transport: ClientTransport): Promise<string> {
  const reply = await getTickle(transport, {}, { fresh: true });
  const session = record(reply.body)?.session;
  if (typeof session !== "string" || session.trim() === "") {
    throw new GatewayError("BROKER_SESSION_REQUIRED", {
      details: { operation_id: "getTickle", reason: "no_session_value" },
    });
  }
  return session;
}

function sessionRefused(where: string, reason: string): GatewayError {
  return new GatewayError("BROKER_SESSION_REQUIRED", {
    message: `The websocket of the Client Portal Gateway at ${where} did not accept the session.`,
    details: { channel: "websocket", reason },
  });
}

function depthUnavailable(reason: string, brokerMessage?: string): GatewayError {
  return new GatewayError("MARKET_DATA_UNAVAILABLE", {
    message:
      reason === "empty_book"
        ? "The broker sent an empty order book for this contract: no market-depth subscription for the exchange, or the market is closed."
        : "The broker refused the market-depth subscription for this contract.",
    userAction:
      "Check the market-depth (level 2) subscription for this exchange in the IBKR account settings, try another exchange, or ask again while the market is open.",
    details: {
      channel: "websocket",
      reason,
      ...(brokerMessage !== undefined ? { broker_message: brokerMessage } : {}),
    },
  });
}

function depthTimedOut(timeoutMs: number): GatewayError {
  return new GatewayError("MARKET_DATA_INCOMPLETE", {
    message: `The broker sent no order book within ${Math.round(timeoutMs / 100) / 10} seconds of the depth subscription.`,
    userAction:
      "Retry in a few seconds; if it keeps failing, check the market-depth (level 2) subscription for this exchange in the IBKR account settings.",
    details: { channel: "websocket", reason: "timeout", timeout_ms: timeoutMs },
  });
}

function connectionFailed(error: unknown, where: string): GatewayError {
  const e = record(error);
  if (e?.code === UPGRADE_REFUSED) {
    const status = typeof e.status === "number" ? e.status : 0;
    if (status === 401 || status === 403) {
      return new GatewayError("BROKER_SESSION_REQUIRED", {
        details: { channel: "websocket", http_status: status },
      });
    }
    return backendUnavailable("other", where, { channel: "websocket", http_status: status });
  }
  const { failure, code } = classifyTransportFailure(error);
  return backendUnavailable(failure, where, { channel: "websocket", ...(code !== null ? { code } : {}) });
}

/**
 * One picture of the order book: the session value from /tickle (through the counting transport), then one
 * websocket connection that ends with `ubd` and a close whatever happens. Errors map to the catalogue:
 * unreachable -> BROKER_BACKEND_UNAVAILABLE, no session -> BROKER_SESSION_REQUIRED (or _COMPETING), a
 * refused or empty book -> MARKET_DATA_UNAVAILABLE, no book in time -> MARKET_DATA_INCOMPLETE.
 */
export async function readDepthBook(
  socket: CpapiWebSocket,
  transport: ClientTransport,
  request: DepthBookRequest,
): Promise<DepthBook> {
  if (!ACCOUNT_ID.test(request.accountId)) {
    throw invalidArgument("account_id", "The account id must be 1-32 letters or digits.");
  }
  if (!CONID.test(request.conid)) throw invalidArgument("contract_id", "The contract id must be digits.");
  if (request.exchange !== undefined && !EXCHANGE.test(request.exchange)) {
    throw invalidArgument("exchange", "The exchange must be an upper-case exchange code such as NASDAQ.");
  }
  const timeoutMs = request.timeoutMs ?? DEPTH_BOOK_TIMEOUT_MS;
  const session = await sessionValue(transport);
  const where = socket.where;
  const subscribe = `sbd+${request.accountId}+${request.conid}${request.exchange !== undefined ? `+${request.exchange}` : ""}`;

  return new Promise<DepthBook>((resolve, reject) => {
    let phase: "connecting" | "open" | "session_sent" | "subscribed" = "connecting";
    let settled = false;
    let connection: WebSocketLike | null = null;

    const finish = (outcome: { book: DepthBook } | { error: GatewayError }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (connection !== null) {
        if (phase === "subscribed") connection.send(`ubd+${request.accountId}`);
        connection.close(1000);
      }
      if ("book" in outcome) resolve(outcome.book);
      else reject(outcome.error);
    };

    const timer = setTimeout(() => {
      if (phase === "connecting")
        finish({ error: backendUnavailable("timeout", where, { channel: "websocket" }) });
      else if (phase === "subscribed") finish({ error: depthTimedOut(timeoutMs) });
      else finish({ error: sessionRefused(where, "no_confirmation") });
    }, timeoutMs);

    const onMessage = (text: string) => {
      if (settled) return;
      let message: Record<string, unknown> | null;
      try {
        message = record(JSON.parse(text));
      } catch {
        return;
      }
      if (message === null) return;
      const topic = typeof message.topic === "string" ? message.topic : undefined;
      if (topic === undefined) {
        if (message.message === "waiting for session") {
          // Asked once, we answer once; asked again after answering, the session was not accepted.
          if (phase === "session_sent" || phase === "subscribed") {
            finish({ error: sessionRefused(where, "session_not_accepted") });
            return;
          }
          phase = "session_sent";
          connection?.send(JSON.stringify({ session }));
          return;
        }
        if (message.error !== undefined && phase === "subscribed") {
          finish({ error: depthUnavailable("refused", brokerText(message.error)) });
        }
        return;
      }
      if (topic === "sts") {
        const args = record(message.args);
        if (args?.authenticated === true) {
          sendSubscription();
          return;
        }
        if (args?.authenticated === false) {
          finish({
            error:
              args.competing === true
                ? new GatewayError("BROKER_SESSION_COMPETING", { details: { channel: "websocket" } })
                : new GatewayError("BROKER_SESSION_REQUIRED", {
                    userAction:
                      "Log in again to the Client Portal Gateway in a browser, or run `ibkr-agent session renew` when `broker.allow_session_init` is on, then call again.",
                    details: { channel: "websocket", reason: "brokerage_session" },
                  }),
          });
        }
        return;
      }
      if (topic === "system") {
        if (message.success !== undefined) sendSubscription();
        return;
      }
      if (topic.startsWith("sbd") && phase === "subscribed") {
        const parts = topic.split("+");
        if (parts.length >= 3 && parts[2] !== request.conid) return;
        if (message.error !== undefined) {
          finish({ error: depthUnavailable("refused", brokerText(message.error)) });
          return;
        }
        if (!Array.isArray(message.data)) return;
        if (!hasLevel(message.data)) {
          finish({ error: depthUnavailable("empty_book") });
          return;
        }
        finish({ book: { rows: message.data } });
      }
    };

    function sendSubscription(): void {
      if (phase === "subscribed" || connection === null) return;
      phase = "subscribed";
      connection.send(subscribe);
    }

    try {
      connection = socket.open({
        onOpen: () => {
          if (phase === "connecting") phase = "open";
        },
        onMessage,
        onError: (error) => finish({ error: connectionFailed(error, where) }),
        onClose: (code) => {
          if (phase === "connecting") finish({ error: backendUnavailable("connection_refused", where) });
          else
            finish({ error: backendUnavailable("reset", where, { channel: "websocket", close_code: code }) });
        },
      });
    } catch (error) {
      finish({ error: connectionFailed(error, where) });
    }
  });
}
