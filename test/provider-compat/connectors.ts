// What remote MCP connectors send, as far as it is documented or reported, and the helpers that turn what
// our server answered into committed snapshots. The three connectors differ mainly in the protocol revision
// they ask for, their client name and whether later requests carry MCP-Protocol-Version; all three put the
// access token in the Authorization header (OpenAI's `authorization` field of the Responses API mcp tool,
// Anthropic's `authorization_token` of the Messages API MCP connector, a generic client's OAuth flow).
import { type RawAnswer, rawRequest } from "../support/mcp-http.ts";

export interface ConnectorProfile {
  readonly id: "openai" | "anthropic";
  /** Where the values come from. */
  readonly source: string;
  readonly clientInfo: { readonly name: string; readonly version: string };
  readonly protocolVersion: string;
  /** Revisions from 2025-06-18 on require MCP-Protocol-Version on every request after initialize. */
  readonly sendsProtocolHeader: boolean;
}

export const OPENAI: ConnectorProfile = {
  id: "openai",
  source:
    "Initialize requests of OpenAI's Responses API MCP tool as logged by a server (modelcontextprotocol/go-sdk#464): clientInfo openai-mcp 1.0.0, protocolVersion 2025-03-26, no capabilities.",
  clientInfo: { name: "openai-mcp", version: "1.0.0" },
  protocolVersion: "2025-03-26",
  sendsProtocolHeader: false,
};

export const ANTHROPIC: ConnectorProfile = {
  id: "anthropic",
  source:
    "Claude's client as logged by servers: clientInfo claude-ai 0.1.0 (modelcontextprotocol/typescript-sdk#179), protocolVersion 2025-06-18 (modelcontextprotocol/go-sdk#464).",
  clientInfo: { name: "claude-ai", version: "0.1.0" },
  protocolVersion: "2025-06-18",
  sendsProtocolHeader: true,
};

/** The headers worth pinning; the rest (date, connection, content-length) say nothing about compatibility. */
const KEPT_HEADERS = [
  "content-type",
  "cache-control",
  "www-authenticate",
  "retry-after",
  "allow",
  "mcp-session-id",
  "mcp-protocol-version",
  "x-request-id",
  "x-content-type-options",
];

export interface SeenAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export function seen(answer: RawAnswer): SeenAnswer {
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = answer.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return { status: answer.status, headers, body: answer.json ?? answer.text };
}

export interface Placeholders {
  /** http://127.0.0.1:<port> of the MCP server. */
  readonly mcpOrigin: string;
  /** https://localhost:<port> of the authorization server. */
  readonly issuer: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The snapshot form of a value: the ports of both servers, ids, hashes and times replaced by placeholders,
 * so a snapshot says what a connector sees and nothing about the machine or the run.
 */
export function normalise(value: unknown, places: Placeholders): unknown {
  const text = JSON.stringify(value)
    .replace(new RegExp(escapeRegExp(places.mcpOrigin), "g"), "http://127.0.0.1:<port>")
    .replace(new RegExp(escapeRegExp(places.issuer), "g"), "https://localhost:<auth-server-port>")
    .replace(
      /(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/gi,
      "<uuid>",
    )
    .replace(/(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g, "<hex-64>")
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g, "<timestamp>");
  return JSON.parse(text);
}

export const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export interface ConnectorSession {
  readonly initialize: SeenAnswer;
  readonly initialized: SeenAnswer;
  readonly sessionId: string;
  /** One JSON-RPC request in the session, with the headers this connector sends. */
  request(body: unknown, extraHeaders?: Record<string, string>): Promise<SeenAnswer>;
  /** Ends the session (DELETE), as both connectors do when they are done. */
  close(): Promise<SeenAnswer>;
}

/** A session opened the way this connector opens one, over plain HTTP requests with the bearer token. */
export async function connectorSession(
  url: string,
  profile: ConnectorProfile,
  token: string,
): Promise<ConnectorSession> {
  const initialize = seen(
    await rawRequest(url, {
      token,
      body: {
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: {
          protocolVersion: profile.protocolVersion,
          capabilities: {},
          clientInfo: profile.clientInfo,
        },
      },
    }),
  );
  const sessionId = initialize.headers["mcp-session-id"];
  if (initialize.status !== 200 || sessionId === undefined) {
    throw new Error(`initialize failed: ${initialize.status} ${JSON.stringify(initialize.body)}`);
  }
  const negotiated = (initialize.body as { result: { protocolVersion: string } }).result.protocolVersion;
  const headers = (extra: Record<string, string> = {}) => ({
    ...(profile.sendsProtocolHeader ? { "mcp-protocol-version": negotiated } : {}),
    ...extra,
  });
  const initialized = seen(
    await rawRequest(url, {
      token,
      session: sessionId,
      headers: headers(),
      body: { jsonrpc: "2.0", method: "notifications/initialized" },
    }),
  );
  return {
    initialize,
    initialized,
    sessionId,
    request: async (body, extra) =>
      seen(await rawRequest(url, { token, session: sessionId, headers: headers(extra), body })),
    close: async () =>
      seen(await rawRequest(url, { method: "DELETE", token, session: sessionId, headers: headers() })),
  };
}
