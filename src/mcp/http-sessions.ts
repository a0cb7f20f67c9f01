// The stateful MCP sessions of the HTTP front door. Each session is one MCP SDK server (createMcpServer,
// over the gateway's one dispatcher, exactly as stdio) on its own Streamable HTTP transport, bound to the
// principal of the token that initialized it: a request presenting the session id under another principal
// is refused by the caller of get(). Sessions are bounded in number (overall and per principal) and end
// after an idle period; a session with a request in flight is never idle.
import { randomUUID } from "node:crypto";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { ToolName } from "../../generated/tools/registry.gen.ts";
import type { Identity } from "../auth/index.ts";
import type { CallContext } from "../core/call-context.ts";
import type { Clock } from "../core/clock.ts";
import { uuidv7 } from "../core/ids.ts";
import type { Dispatcher } from "../gateway/index.ts";
import { createMcpServer } from "./server.ts";

/** What the HTTP handler attaches to each request it passes to the transport (as AuthInfo.extra.call). */
export interface RequestCall {
  readonly identity: Identity;
  /** The request id for the first tool call of this HTTP request (from a valid x-request-id), then fresh ones. */
  nextRequestId(): string;
}

export interface McpHttpSession {
  /** The Mcp-Session-Id (a random UUID); it is never written to the audit log or the logs. */
  id: string | undefined;
  /** ses_<uuidv7>: the session_id of this session's audit events. */
  readonly auditSessionId: string;
  readonly principal: string;
  readonly transport: StreamableHTTPServerTransport;
  /** Fingerprint of the last token seen in this session. */
  fingerprint: string;
  lastSeen: number;
  inFlight: number;
  close(): Promise<void>;
}

export interface SessionLimits {
  readonly maxSessions: number;
  readonly maxPerPrincipal: number;
  readonly idleMs: number;
}

export interface SessionRegistryOptions extends SessionLimits {
  readonly dispatcher: Dispatcher;
  readonly version: string;
  readonly clock: Clock;
  readonly renderText?: (tool: ToolName, result: unknown) => string;
}

export type OpenResult = { readonly ok: true; readonly session: McpHttpSession } | { readonly ok: false };

export interface SessionRegistry {
  /** A new, not yet initialized session for this identity, or ok:false at a session limit. */
  open(identity: Identity): Promise<OpenResult>;
  get(id: string): McpHttpSession | undefined;
  /** Ends sessions idle for longer than the limit. */
  sweep(): void;
  readonly size: number;
  closeAll(): Promise<void>;
}

function callOf(authInfo: { extra?: Record<string, unknown> } | undefined): RequestCall {
  const call = authInfo?.extra?.call as RequestCall | undefined;
  // Every request reaches the transport through the HTTP handler, which attaches the caller; without one
  // nothing may run (fail closed).
  if (call === undefined) throw new Error("request without an authenticated caller");
  return call;
}

export function createSessionRegistry(options: SessionRegistryOptions): SessionRegistry {
  const { clock } = options;
  const live = new Map<string, McpHttpSession>();
  const all = new Set<McpHttpSession>();

  async function open(identity: Identity): Promise<OpenResult> {
    sweep();
    const mine = [...all].filter((session) => session.principal === identity.principal).length;
    if (all.size >= options.maxSessions || mine >= options.maxPerPrincipal) return { ok: false };
    const auditSessionId = `ses_${uuidv7(clock)}`;
    let server: Server | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // One JSON answer per POST: what proxies and simple clients handle best; notifications from the
      // server would use the GET stream (this server sends none).
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        session.id = id;
        live.set(id, session);
      },
    });
    const session: McpHttpSession = {
      id: undefined,
      auditSessionId,
      principal: identity.principal,
      transport,
      fingerprint: identity.fingerprint,
      lastSeen: clock.now(),
      inFlight: 0,
      close: async () => {
        await (server?.close() ?? transport.close());
      },
    };
    transport.onclose = () => {
      all.delete(session);
      if (session.id !== undefined && live.get(session.id) === session) live.delete(session.id);
    };
    server = createMcpServer({
      dispatcher: options.dispatcher,
      version: options.version,
      ...(options.renderText !== undefined ? { renderText: options.renderText } : {}),
      contextFor: ({ metadata, authInfo }): CallContext => {
        const call = callOf(authInfo);
        return {
          frontDoor: "mcp_http",
          principal: call.identity.principal,
          scopes: call.identity.scopes,
          requestId: call.nextRequestId(),
          sessionId: auditSessionId,
          metadata,
        };
      },
    });
    all.add(session);
    await server.connect(transport);
    return { ok: true, session };
  }

  function sweep(): void {
    const now = clock.now();
    for (const session of all) {
      if (session.inFlight === 0 && now - session.lastSeen > options.idleMs) void session.close();
    }
  }

  return {
    open,
    get: (id) => live.get(id),
    sweep,
    get size() {
      return all.size;
    },
    async closeAll() {
      await Promise.all([...all].map((session) => session.close()));
    },
  };
}
