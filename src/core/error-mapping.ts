// How each front door presents a GatewayError, all read from the generated catalogue: the CLI's exit code and
// JSON, the MCP tool result, and the HTTP status. Front doors call these and decide nothing themselves.
import { ERROR_CATALOGUE } from "../../generated/errors.gen.ts";
import { type GatewayError, toWireError, type WireError } from "./gateway-error.ts";

/** Process exit code for a CLI failure (success is 0). */
export function cliExitCode(error: GatewayError): number {
  return ERROR_CATALOGUE[error.code].exit;
}

/** The `--json` body a CLI command prints on failure. */
export function cliErrorJson(error: GatewayError): { error: WireError } {
  return { error: toWireError(error) };
}

/** Human-readable lines for a terminal: what happened, what to do, and the audit reference. */
export function cliErrorText(error: GatewayError): string {
  const lines = [`Error ${error.code}: ${error.message}`, `What to do: ${error.userAction}`];
  if (error.retryable) lines.push("This can be retried.");
  if (error.auditEventId) lines.push(`Audit event: ${error.auditEventId}`);
  return lines.join("\n");
}

/** MCP CallTool result for a failed tool call: an isError result, never a JSON-RPC error. */
export interface McpErrorResult {
  [key: string]: unknown;
  isError: true;
  content: { type: "text"; text: string }[];
  structuredContent: { error: WireError };
}

export function mcpToolErrorResult(error: GatewayError): McpErrorResult {
  const wire = toWireError(error);
  return {
    isError: true,
    content: [{ type: "text", text: `${wire.code}: ${wire.message} What to do: ${wire.user_action}` }],
    structuredContent: { error: wire },
  };
}

/** HTTP status and body for failures answered at the HTTP layer (auth, rate limits, sizes). */
export function httpErrorResponse(error: GatewayError): { status: number; body: { error: WireError } } {
  return { status: ERROR_CATALOGUE[error.code].http, body: { error: toWireError(error) } };
}
