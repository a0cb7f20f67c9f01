// Broker failures mapped to the error catalogue. The broker's own text is untrusted and may embed account
// ids, so it never reaches a user-facing message: it is kept in details.broker_message for the audit (which
// redacts and truncates it) and nowhere else.
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";

/** Order writes: a failure after the request may have reached the broker leaves the outcome unknown. */
export const ORDER_WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  "placeOrders",
  "modifyOrder",
  "replyToQuestion",
  "answerNotification",
]);
/** Order operations whose {"error": ...} answers are business refusals rather than faults. */
const ORDER_OPERATIONS: ReadonlySet<string> = new Set([
  ...ORDER_WRITE_OPERATIONS,
  "cancelOrder",
  "whatIfOrder",
]);
/** Operations that name one order by id: "doesn't exist" means ORDER_NOT_FOUND. */
const ORDER_LOOKUPS: ReadonlySet<string> = new Set(["getOrderStatus", "cancelOrder", "modifyOrder"]);

const PREFLIGHT = /please query \/?(iserver\/)?accounts first/i;
const NO_BRIDGE = /no bridge/i;
const NO_SESSION = /no session|not authenticated|session (has )?expired/i;
const NOT_EXIST = /doesn'?t exist|does not exist|order not found|unknown order/i;
const MAX_BROKER_MESSAGE = 1_000;

export type TransportFailure =
  | "connection_refused"
  | "dns"
  | "timeout"
  | "tls"
  | "reset"
  | "aborted"
  | "other";

const NOT_SENT_CODES: Record<string, TransportFailure> = {
  ECONNREFUSED: "connection_refused",
  EHOSTUNREACH: "connection_refused",
  ENETUNREACH: "connection_refused",
  EADDRNOTAVAIL: "connection_refused",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
};
const MAYBE_SENT_CODES: Record<string, TransportFailure> = {
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  ETIMEDOUT: "timeout",
  ECONNRESET: "reset",
  EPIPE: "reset",
  UND_ERR_SOCKET: "reset",
  UND_ERR_CLOSED: "reset",
  UND_ERR_ABORTED: "aborted",
  ABORT_ERR: "aborted",
};

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.includes("CERT") ||
    code === "EPROTO" ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
  );
}

function codesOf(error: unknown, depth = 0): string[] {
  if (error === null || typeof error !== "object" || depth > 4) return [];
  const e = error as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === "string" ? [e.code] : [];
  if (e.name === "AbortError") own.push("ABORT_ERR");
  const nested = Array.isArray(e.errors) ? e.errors.flatMap((inner) => codesOf(inner, depth + 1)) : [];
  return [...own, ...codesOf(e.cause, depth + 1), ...nested];
}

/** What kind of transport failure this is, and whether the request can have reached the gateway. */
export function classifyTransportFailure(error: unknown): {
  failure: TransportFailure;
  maybeSent: boolean;
  code: string | null;
} {
  const codes = codesOf(error);
  for (const code of codes) if (isTlsCode(code)) return { failure: "tls", maybeSent: false, code };
  for (const code of codes) {
    const failure = NOT_SENT_CODES[code];
    if (failure !== undefined) return { failure, maybeSent: false, code };
  }
  for (const code of codes) {
    const failure = MAYBE_SENT_CODES[code];
    if (failure !== undefined) return { failure, maybeSent: true, code };
  }
  return { failure: "other", maybeSent: true, code: codes[0] ?? null };
}

export function backendUnavailable(
  failure: TransportFailure,
  where: string,
  extra: Record<string, unknown> = {},
): GatewayError {
  const details = { failure, ...extra };
  switch (failure) {
    case "connection_refused":
      return new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
        message: `The Client Portal Gateway is not running at ${where}.`,
        userAction: `Start the Client Portal Gateway (or \`ibkr-agent simulator\`) so it listens at ${where}, log in in a browser, then retry.`,
        details,
      });
    case "dns":
      return new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
        message: `The host of the Client Portal Gateway (${where}) cannot be resolved.`,
        userAction: "Check the host name in `broker.base_url`.",
        details,
      });
    case "timeout":
      return new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
        message: `The Client Portal Gateway at ${where} did not answer in time.`,
        details,
      });
    case "tls":
      return new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
        message: `The TLS certificate of the Client Portal Gateway at ${where} is not trusted.`,
        userAction:
          "Pin the gateway's certificate with `broker.ca_file` (recommended), or for a gateway on this machine set `broker.allow_insecure_tls_for_localhost: true` with a localhost, 127.0.0.1 or [::1] base URL.",
        retryable: false,
        details,
      });
    case "aborted":
      return new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
        message: "The broker request was cancelled before it completed.",
        details,
      });
    default:
      return new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
        message: `The connection to the Client Portal Gateway at ${where} failed.`,
        details,
      });
  }
}

export function outcomeUncertain(
  operation: CpapiOperationSpec,
  details: Record<string, unknown>,
): GatewayError {
  return new GatewayError("ORDER_OUTCOME_UNCERTAIN", {
    details: { operation_id: operation.operationId, ...details },
  });
}

/** A body that is only an error object: {"error": "..."} with at most statusCode beside it. */
export function errorOnlyMessage(body: unknown): string | null {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return null;
  const record = body as Record<string, unknown>;
  if (typeof record.error !== "string") return null;
  const extra = Object.keys(record).filter((k) => k !== "error" && k !== "statusCode");
  return extra.length === 0 ? record.error : null;
}

/** The {"error": ...} text of any broker body, when there is one at top level. */
export function brokerMessageOf(body: unknown): string | null {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return typeof body === "string" && body.trim() !== "" ? body.slice(0, MAX_BROKER_MESSAGE) : null;
  }
  const record = body as Record<string, unknown>;
  const text = typeof record.error === "string" ? record.error : null;
  return text === null ? null : text.slice(0, MAX_BROKER_MESSAGE);
}

export type SessionObservation = "unauthenticated" | "bridge_down";

export type BrokerErrorVerdict =
  | { readonly kind: "preflight" }
  | { readonly kind: "error"; readonly error: GatewayError; readonly observe: SessionObservation | null };

/** Maps a broker answer (non-2xx, or a 2xx error-only body) to the catalogue. */
export function classifyBrokerAnswer(
  operation: CpapiOperationSpec,
  status: number,
  message: string | null,
): BrokerErrorVerdict {
  const id = operation.operationId;
  const details: Record<string, unknown> = { operation_id: id, http_status: status };
  if (message !== null) details.broker_message = message;
  const error = (code: ConstructorParameters<typeof GatewayError>[0], extra: object = {}) =>
    new GatewayError(code, { ...extra, details });
  const text = message ?? "";

  if (status !== 401 && status !== 429 && PREFLIGHT.test(text)) return { kind: "preflight" };
  if (status === 401)
    return { kind: "error", error: error("BROKER_SESSION_REQUIRED"), observe: "unauthenticated" };
  if (NO_BRIDGE.test(text)) {
    return {
      kind: "error",
      error: error("BROKER_SESSION_REQUIRED", {
        message: "The brokerage session of the Client Portal Gateway is not connected.",
        userAction:
          "Log in to the Client Portal Gateway again in a browser (or run `ibkr-agent session status` to see what is needed), then retry.",
      }),
      // History's own data bridge can say "no bridge" while the brokerage session is fine.
      observe: id === "getHistory" ? null : "bridge_down",
    };
  }
  if (NO_SESSION.test(text)) {
    return { kind: "error", error: error("BROKER_SESSION_REQUIRED"), observe: "unauthenticated" };
  }
  if (ORDER_LOOKUPS.has(id) && NOT_EXIST.test(text)) {
    return { kind: "error", error: error("ORDER_NOT_FOUND"), observe: null };
  }
  // Order status answers 503 for orders of another session or account context.
  if (id === "getOrderStatus" && status === 503) {
    return { kind: "error", error: error("ORDER_NOT_FOUND"), observe: null };
  }
  if (ORDER_WRITE_OPERATIONS.has(id)) {
    // 503 means the broker gave up waiting on its backend, which may still act on the order.
    if (status === 503 || (status >= 500 && message === null)) {
      return { kind: "error", error: outcomeUncertain(operation, { http_status: status }), observe: null };
    }
    return { kind: "error", error: error("BROKER_ORDER_REJECTED"), observe: null };
  }
  if (ORDER_OPERATIONS.has(id) && (status < 500 || message !== null) && status !== 503) {
    return { kind: "error", error: error("BROKER_ORDER_REJECTED"), observe: null };
  }
  if (status >= 500) {
    return {
      kind: "error",
      error: error("BROKER_BACKEND_UNAVAILABLE", {
        message: `The broker could not serve ${id} right now (HTTP ${status}).`,
        userAction:
          "Retry in a few seconds; if it persists, check the gateway with `ibkr-agent session status`.",
      }),
      observe: null,
    };
  }
  if (status === 404) {
    return { kind: "error", error: error("BROKER_CAPABILITY_UNAVAILABLE"), observe: null };
  }
  if (status >= 400) {
    return {
      kind: "error",
      error: error("INPUT_INVALID_ARGUMENT", {
        message: `The broker refused the parameters of ${id} (HTTP ${status}).`,
        userAction: "Check the ids and values sent (account, conid, order id) and call again.",
      }),
      observe: null,
    };
  }
  return {
    kind: "error",
    error: error("BROKER_RESPONSE_INVALID", { message: `The broker answered ${id} with an error.` }),
    observe: null,
  };
}
