// Raw JSON-RPC POSTs to a Streamable HTTP MCP endpoint over an undici pool: what the HTTP benchmarks send,
// without an MCP client's own overhead in the measurement.
import type { Pool } from "undici";

export const PROTOCOL_VERSION = "2025-06-18";

export type McpPost = (
  token: string,
  message: object,
  session?: string,
) => Promise<{ headers: Record<string, string | string[] | undefined>; text: string }>;

export function mcpPoster(pool: Pool, mcpUrl: string): McpPost {
  const url = new URL(mcpUrl);
  return async (token, message, session) => {
    const answer = await pool.request({
      path: url.pathname,
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...(session !== undefined
          ? { "mcp-session-id": session, "mcp-protocol-version": PROTOCOL_VERSION }
          : {}),
      },
      body: JSON.stringify(message),
    });
    const text = await answer.body.text();
    if (answer.statusCode >= 300) throw new Error(`${mcpUrl}: HTTP ${answer.statusCode} ${text}`);
    return { headers: answer.headers, text };
  };
}
