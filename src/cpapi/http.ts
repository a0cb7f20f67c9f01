// One HTTP exchange with the gateway over undici: JSON in, a size-capped body out. No pacing, retries or
// error mapping here; the transport wraps this.
import { type Dispatcher, request } from "undici";
import { GatewayError } from "../core/gateway-error.ts";

export interface HttpExchange {
  readonly dispatcher: Dispatcher;
  readonly url: URL;
  readonly method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  readonly body?: unknown;
  readonly hasBody: boolean;
  readonly signal?: AbortSignal;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly maxResponseBytes: number;
  /** Named in errors, never the URL (it carries account ids). */
  readonly operationId: string;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON, the raw text when the gateway sent text, or null for an empty body. */
  readonly body: unknown;
}

const USER_AGENT = "ibkr-agent-gateway";

function tooLarge(operationId: string, limit: number): GatewayError {
  return new GatewayError("BROKER_RESPONSE_INVALID", {
    message: `The broker's answer to ${operationId} is larger than the ${limit}-byte limit.`,
    userAction: "Ask for less (fewer conids, a shorter period) or raise `broker.max_response_bytes`.",
    retryable: false,
    details: { operation_id: operationId, reason: "too_large", limit_bytes: limit },
  });
}

function flatHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export async function exchange(options: HttpExchange): Promise<HttpReply> {
  const headers: Record<string, string> = { accept: "application/json", "user-agent": USER_AGENT };
  let payload: string | undefined;
  if (options.hasBody) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(options.body ?? {});
  }
  const response = await request(options.url, {
    dispatcher: options.dispatcher,
    method: options.method,
    headers,
    body: payload,
    signal: options.signal,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
  });
  const replyHeaders = flatHeaders(response.headers);
  const limit = options.maxResponseBytes;
  const declared = Number(replyHeaders["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    response.body.destroy();
    throw tooLarge(options.operationId, limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      response.body.destroy();
      throw tooLarge(options.operationId, limit);
    }
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return { status: response.statusCode, headers: replyHeaders, body: parseBody(text, replyHeaders, options) };
}

function parseBody(text: string, headers: Record<string, string>, options: HttpExchange): unknown {
  if (text.trim() === "") return null;
  const declaredJson = (headers["content-type"] ?? "").includes("json");
  try {
    return JSON.parse(text);
  } catch {
    // The gateway answers some calls (POST /iserver/notification) and its own error pages in plain text.
    if (!declaredJson) return text;
    throw new GatewayError("BROKER_RESPONSE_INVALID", {
      message: `The broker's answer to ${options.operationId} is not valid JSON.`,
      details: { operation_id: options.operationId, reason: "invalid_json" },
    });
  }
}
