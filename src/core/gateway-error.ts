// The one error type of the gateway. Callers recognise it by `code` (isGatewayError), never by instanceof,
// because errors cross process, relay and package boundaries as plain data. Message, user action and
// retryability default to the catalogue entry of the code, so every error carries an action for the user.
import { ERROR_CATALOGUE, type ErrorCode, isErrorCode } from "../../generated/errors.gen.ts";

export interface GatewayErrorDetails {
  /** Replaces the catalogue message with a more specific one (never with secret material). */
  message?: string;
  userAction?: string;
  retryable?: boolean;
  /** Structured facts for the caller, e.g. the invalid field, the refusal reasons, the broker question text. */
  details?: Record<string, unknown>;
  auditEventId?: string;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly userAction: string;
  readonly details: Record<string, unknown> | undefined;
  auditEventId: string | undefined;

  constructor(code: ErrorCode, options: GatewayErrorDetails = {}) {
    const entry = ERROR_CATALOGUE[code];
    super(
      options.message ?? entry.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "GatewayError";
    this.code = code;
    this.retryable = options.retryable ?? entry.retryable;
    this.userAction = options.userAction ?? entry.userAction;
    this.details = options.details;
    this.auditEventId = options.auditEventId;
  }
}

/** The shape of a GatewayError on every wire (CLI --json, MCP structuredContent.error, HTTP bodies). */
export interface WireError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  user_action: string;
  audit_event_id: string | null;
  details?: Record<string, unknown>;
}

/** Structural check: anything with a catalogue code and a message counts, whatever realm created it. */
export function isGatewayError(value: unknown): value is GatewayError {
  if (value === null || typeof value !== "object") return false;
  const candidate = value as { code?: unknown; message?: unknown };
  return (
    typeof candidate.code === "string" && isErrorCode(candidate.code) && typeof candidate.message === "string"
  );
}

/** Wraps anything thrown into a GatewayError; unknown failures become INTERNAL_ERROR without leaking internals. */
export function toGatewayError(value: unknown): GatewayError {
  if (value instanceof GatewayError) return value;
  if (isGatewayError(value)) {
    const v = value as unknown as Partial<GatewayError> & { code: ErrorCode; message: string };
    return new GatewayError(v.code, {
      message: v.message,
      userAction: v.userAction,
      retryable: v.retryable,
      details: v.details,
      auditEventId: v.auditEventId,
    });
  }
  return new GatewayError("INTERNAL_ERROR", { cause: value });
}

export function toWireError(error: GatewayError): WireError {
  const wire: WireError = {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    user_action: error.userAction,
    audit_event_id: error.auditEventId ?? null,
  };
  if (error.details !== undefined) wire.details = error.details;
  return wire;
}
