// How the HTTP front door answers outside MCP: a JSON body, never cached, and for a refusal the gateway's
// wire error ({ error: { code, message, retryable, user_action, audit_event_id } }) with the catalogue's
// HTTP status. Protocol faults inside /mcp (bad JSON, a missing session header) stay JSON-RPC errors.
import type { ServerResponse } from "node:http";
import type { ErrorCode } from "../../generated/errors.gen.ts";
import { httpErrorResponse } from "../core/error-mapping.ts";
import { GatewayError, type GatewayErrorDetails } from "../core/gateway-error.ts";

export type HeaderMap = Readonly<Record<string, string>>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: HeaderMap = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export interface Refusal extends GatewayErrorDetails {
  /** Overrides the catalogue status where HTTP has a more precise one (431 for headers over the cap). */
  readonly status?: number;
  readonly headers?: HeaderMap;
}

export function sendRefusal(res: ServerResponse, code: ErrorCode, refusal: Refusal = {}): void {
  const { status, headers, ...details } = refusal;
  const { status: catalogueStatus, body } = httpErrorResponse(new GatewayError(code, details));
  sendJson(res, status ?? catalogueStatus, body, headers);
}

/** A JSON-RPC error without an id, as the MCP SDK's transport answers protocol faults. */
export function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: "2.0", error: { code, message }, id: null });
}

/** A complete HTTP/1.1 response for a socket no request object owns (client errors, connection caps). */
export function rawRefusal(code: ErrorCode, status: number, reason: string, headers: HeaderMap = {}): string {
  const { body } = httpErrorResponse(new GatewayError(code));
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(text)}`,
    "cache-control: no-store",
    "connection: close",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join("\r\n")}\r\n\r\n${text}`;
}
