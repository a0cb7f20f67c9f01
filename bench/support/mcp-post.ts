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

/** initialize and notifications/initialized, as an MCP client does; returns the session id. */
export async function openMcpSession(post: McpPost, mcpUrl: string, token: string): Promise<string> {
  const answer = await post(token, {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "bench", version: "1" },
    },
  });
  const session = answer.headers["mcp-session-id"];
  if (typeof session !== "string") throw new Error(`${mcpUrl}: no session id`);
  await post(token, { jsonrpc: "2.0", method: "notifications/initialized" }, session);
  return session;
}

/** One tools/call; throws unless the answer is a successful tool result. Returns the answer's text. */
export async function callMcpTool(
  post: McpPost,
  mcpUrl: string,
  caller: { token: string; session: string },
  id: number,
  name: string,
  args: Record<string, unknown>,
): Promise<string> {
  const answer = await post(
    caller.token,
    { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } },
    caller.session,
  );
  const message = JSON.parse(answer.text) as { result?: { isError?: boolean } };
  if (message.result === undefined || message.result.isError === true) {
    throw new Error(`${mcpUrl}: ${name} failed: ${answer.text.slice(0, 500)}`);
  }
  return answer.text;
}
