// The Streamable HTTP front door as a mountable (request, response) handler: usable as a node:http request
// listener, an Express route or a Hono node-server handler. It routes /healthz, /readyz and the
// protected-resource metadata, and sends /mcp through the gatekeeper (origin, limits, token) and then to
// the caller's MCP session: one createMcpServer per session over the gateway's one dispatcher, the same
// path stdio takes. Connection counts, header size and timeouts belong to the server that owns the
// sockets (serveMcpHttp, or the embedding application's).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { isScopeName, type ScopeName } from "../../generated/scopes.gen.ts";
import { isToolName, TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import {
  type Authenticator,
  createAuthAuditor,
  createClientAddresses,
  createIdentityHasher,
  createLocalAuthenticator,
  createRateLimiter,
  createRemoteAuthenticator,
  type Identity,
  metadataPaths,
  metadataUrl,
  protectedResourceMetadata,
  type RateDecision,
  rateLimitKey,
} from "../auth/index.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { httpErrorResponse } from "../core/error-mapping.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { isUuid } from "../core/ids.ts";
import { type Gateway, requestId } from "../gateway/index.ts";
import { acceptJsonAnswers } from "./http-accept.ts";
import { createGatekeeper, type RequestMeta } from "./http-auth.ts";
import { readJsonBody } from "./http-body.ts";
import { createHealth } from "./http-health.ts";
import { createOriginPolicy } from "./http-origin.ts";
import { sendJson, sendJsonRpcError, sendRefusal } from "./http-responses.ts";
import { createSessionRegistry, type McpHttpSession, type RequestCall } from "./http-sessions.ts";

/** The MCP endpoint's path; the metadata's path-suffixed form names it too. */
export const MCP_PATH = "/mcp";

export interface McpHttpHandlerOptions {
  readonly gateway: Gateway;
  readonly version: string;
  readonly renderText?: (tool: ToolName, result: unknown) => string;
  /**
   * Local mode: accept this bearer token (see randomLocalToken) and grant the locally configured scopes,
   * as stdio does. Without it the handler is the OAuth resource server of the remote_mcp configuration.
   */
  readonly localToken?: string;
  /** Time for rate windows, session idleness and token expiry; default the system clock. */
  readonly clock?: Clock;
}

export interface McpHttpHandler {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  readonly mode: "remote" | "local";
  /** MCP sessions open now. */
  readonly sessionCount: number;
  /** Refuses new requests (503 SERVER_BUSY) and waits up to graceMs for the ones in flight. */
  drain(graceMs: number): Promise<void>;
  /** Ends the sessions, writes held-back audit counts and releases the JWKS client. */
  close(): Promise<void>;
  /**
   * The pre-auth limit on the client's address, for requests of this server that no bearer token guards
   * (the relay's WebSocket upgrade and its /relay/* pairing requests): the same limiter and address
   * resolution as /mcp. Counts the request; a refusal is audited (auth_denied, rate_limit_pre_auth) and
   * returned for the caller to answer.
   */
  limitUnauthenticated(req: IncomingMessage): RateDecision;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function remoteEnabled(gateway: Gateway): boolean {
  const { config } = gateway.loaded;
  return config.remote_mcp.enabled && config.safety.remote_mcp_enabled;
}

/** The tool calls of a POST body that need a scope the caller lacks (the first one decides the 403). */
function missingScope(
  body: unknown,
  scopes: ReadonlySet<ScopeName>,
): { tool: ToolName; scope: ScopeName; args: unknown } | undefined {
  for (const message of Array.isArray(body) ? body : [body]) {
    const { method, params } = (message ?? {}) as {
      method?: unknown;
      params?: { name?: unknown; arguments?: unknown };
    };
    const name = params?.name;
    if (method !== "tools/call" || typeof name !== "string" || !isToolName(name)) continue;
    const scope = TOOLS[name].scope;
    if (!scopes.has(scope)) return { tool: name, scope, args: params?.arguments ?? {} };
  }
  return undefined;
}

export function createMcpHttpHandler(options: McpHttpHandlerOptions): McpHttpHandler {
  const { gateway } = options;
  const clock = options.clock ?? systemClock;
  const remote = gateway.loaded.config.remote_mcp;
  const local = options.localToken !== undefined;
  if (!local && !remoteEnabled(gateway)) {
    throw new GatewayError("CONFIG_REMOTE_MCP_FORBIDDEN");
  }
  const hasher = createIdentityHasher({
    ...(gateway.loaded.secrets.tokenIdHmacSecret() !== undefined
      ? { secret: gateway.loaded.secrets.tokenIdHmacSecret() }
      : {}),
    fallback: (text) => gateway.store.hashTokenId(text),
  });
  const authenticator: Authenticator = local
    ? createLocalAuthenticator({
        token: options.localToken ?? "",
        principal: gateway.principal,
        scopes: gateway.localScopes,
      })
    : createRemoteAuthenticator({ config: remote, hasher, clock });
  const resource = remote.resource;
  const metadata =
    !local && resource !== undefined && remote.issuer !== undefined
      ? {
          url: metadataUrl(resource),
          paths: new Set(metadataPaths(resource, MCP_PATH)),
          document: protectedResourceMetadata({
            resource,
            issuer: remote.issuer,
            scopes: remote.allowed_scopes.filter((scope): scope is ScopeName => isScopeName(scope)),
          }),
        }
      : undefined;
  const auditor = createAuthAuditor({
    store: gateway.store,
    clock,
    onWriteFailure: () => gateway.logger.warn("an authentication refusal could not be audited"),
  });
  const windowMs = remote.rate_limit.window_seconds * 1000;
  const preAuth = createRateLimiter({ limit: remote.rate_limit.pre_auth_max_requests, windowMs, clock });
  const postAuth = createRateLimiter({ limit: remote.rate_limit.max_requests, windowMs, clock });
  const gatekeeper = createGatekeeper({
    authenticator,
    auditor,
    origins: createOriginPolicy({ allowed: remote.allowed_origins, local }),
    preAuth,
    postAuth,
    ...(metadata !== undefined ? { metadataUrl: metadata.url } : {}),
  });
  const addresses = createClientAddresses(remote.trusted_proxies);
  const health = createHealth(gateway);
  const sessions = createSessionRegistry({
    dispatcher: gateway.dispatcher,
    version: options.version,
    clock,
    maxSessions: remote.max_sessions,
    maxPerPrincipal: remote.max_sessions_per_subject,
    idleMs: remote.session_idle_seconds * 1000,
    ...(options.renderText !== undefined ? { renderText: options.renderText } : {}),
  });
  const sweeper = setInterval(
    () => {
      sessions.sweep();
      preAuth.prune();
      postAuth.prune();
    },
    Math.min(30_000, remote.session_idle_seconds * 500),
  );
  sweeper.unref();

  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const metaOf = (req: IncomingMessage): RequestMeta => {
    const header = single(req.headers["x-request-id"]);
    const fromClient = header !== undefined && isUuid(header);
    const address = addresses.resolve(req.socket.remoteAddress, req.headers["x-forwarded-for"]);
    return {
      requestId: fromClient ? `req_${header.toLowerCase()}` : requestId(clock),
      clientRequestId: fromClient,
      addressHash: hasher.address(address === "" ? "unknown" : address),
      rateKey: rateLimitKey(address),
      sessionId: gateway.sessionId,
    };
  };

  /** Hands the request to the session's transport with the caller attached (AuthInfo.extra.call). */
  const forward = async (
    session: McpHttpSession,
    req: IncomingMessage,
    res: ServerResponse,
    identity: Identity,
    meta: RequestMeta,
    body?: unknown,
  ) => {
    let first: string | undefined = meta.requestId;
    const call: RequestCall = {
      identity,
      nextRequestId: () => {
        const id = first ?? requestId(clock);
        first = undefined;
        return id;
      },
    };
    const auth: AuthInfo = {
      // The transport hands AuthInfo to every request handler; the token itself is not needed there.
      token: "",
      clientId: identity.clientIdHash ?? identity.principal,
      scopes: [...identity.scopes],
      ...(identity.expiresAt !== undefined ? { expiresAt: Math.floor(identity.expiresAt / 1000) } : {}),
      extra: { call },
    };
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    res.setHeader("x-request-id", meta.requestId);
    if (req.method === "GET") {
      // The server-to-client stream stays open; it is neither in flight nor keeps the session from idling.
      void session.transport.handleRequest(req, res).catch(() => res.destroy());
      return;
    }
    session.lastSeen = clock.now();
    session.inFlight += 1;
    try {
      acceptJsonAnswers(req);
      await session.transport.handleRequest(req, res, body);
    } finally {
      session.inFlight -= 1;
      session.lastSeen = clock.now();
    }
  };

  const initialize = async (
    req: IncomingMessage,
    res: ServerResponse,
    identity: Identity,
    meta: RequestMeta,
    body: unknown,
  ) => {
    const opened = await sessions.open(identity);
    if (!opened.ok) {
      sendRefusal(res, "SERVER_BUSY", {
        message: "The server is at its limit of MCP sessions.",
        headers: { "retry-after": String(Math.min(60, remote.session_idle_seconds)) },
      });
      return;
    }
    const { session } = opened;
    try {
      auditor.succeeded({ requestId: meta.requestId, sessionId: session.auditSessionId }, identity);
    } catch (error) {
      await session.close();
      const refusal = httpErrorResponse(new GatewayError("AUDIT_WRITE_FAILED", { cause: error }));
      sendJson(res, refusal.status, refusal.body);
      return;
    }
    try {
      await forward(session, req, res, identity, meta, body);
    } finally {
      // An initialize the transport refused leaves a session nobody can address.
      if (session.id === undefined) await session.close();
    }
  };

  const serveMcp = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    const meta = metaOf(req);
    const identity = await gatekeeper.admit(req, res, query, meta);
    if (identity === undefined) return;
    let body: unknown;
    if (req.method === "POST") {
      const read = await readJsonBody(req, remote.max_body_bytes);
      if (!read.ok) {
        if (read.reason === "too_large")
          sendRefusal(res, "INPUT_TOO_LARGE", { headers: { connection: "close" } });
        else if (read.reason === "invalid_json")
          sendJsonRpcError(res, 400, -32700, "Parse error: Invalid JSON");
        return;
      }
      body = read.value;
    }
    sessions.sweep();
    const sessionId = single(req.headers["mcp-session-id"]);
    if (sessionId === undefined) {
      if (req.method === "POST" && isInitializeRequest(body)) {
        await initialize(req, res, identity, meta, body);
        return;
      }
      sendJsonRpcError(res, 400, -32000, "Bad Request: Mcp-Session-Id header is required");
      return;
    }
    const session = sessions.get(sessionId);
    if (session === undefined) {
      sendRefusal(res, "AUTH_SESSION_MISMATCH", { headers: { "x-request-id": meta.requestId } });
      return;
    }
    if (session.principal !== identity.principal) {
      gatekeeper.refuse(res, meta, {
        code: "AUTH_SESSION_MISMATCH",
        check: "session",
        principal: identity.principal,
        scopes: [...identity.scopes],
      });
      return;
    }
    if (session.fingerprint !== identity.fingerprint) {
      // A refreshed (or another) token of the same principal: recorded once, when it first appears.
      auditor.succeeded({ requestId: meta.requestId, sessionId: session.auditSessionId }, identity);
      session.fingerprint = identity.fingerprint;
    }
    const missing = req.method === "POST" ? missingScope(body, identity.scopes) : undefined;
    if (missing !== undefined) {
      const outcome = await gateway.dispatcher.refuse(
        missing.tool,
        missing.args,
        {
          frontDoor: "mcp_http",
          principal: identity.principal,
          scopes: identity.scopes,
          requestId: meta.requestId,
          sessionId: session.auditSessionId,
        },
        new GatewayError("AUTH_MISSING_SCOPE", {
          message: `${missing.tool} needs the scope ${missing.scope}.`,
          details: { required_scope: missing.scope },
        }),
      );
      const error = outcome.ok ? new GatewayError("INTERNAL_ERROR") : outcome.error;
      const refusal = httpErrorResponse(error);
      sendJson(res, refusal.status, refusal.body, {
        "x-request-id": meta.requestId,
        ...(error.code === "AUTH_MISSING_SCOPE"
          ? {
              "www-authenticate": gatekeeper.challenge({
                error: "insufficient_scope",
                scope: missing.scope,
                description: error.message,
              }),
            }
          : {}),
      });
      return;
    }
    await forward(session, req, res, identity, meta, body);
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader("x-content-type-options", "nosniff");
    // While draining every route says busy, probes included, so a load balancer stops sending traffic.
    if (draining) {
      return sendRefusal(res, "SERVER_BUSY", {
        message: "The server is shutting down.",
        headers: { "retry-after": "5", connection: "close" },
      });
    }
    const url = new URL(req.url ?? "/", "http://request.invalid");
    const path = url.pathname;
    if (req.method === "GET" && path === "/healthz") return health.healthz(res);
    if (req.method === "GET" && path === "/readyz") return health.readyz(res);
    if (req.method === "GET" && metadata?.paths.has(path)) return sendJson(res, 200, metadata.document);
    if (path !== MCP_PATH) return sendRefusal(res, "INPUT_UNKNOWN_ENDPOINT");
    if (req.method !== "GET" && req.method !== "POST" && req.method !== "DELETE") {
      return sendRefusal(res, "INPUT_UNKNOWN_ENDPOINT", {
        status: 405,
        headers: { allow: "GET, POST, DELETE" },
      });
    }
    inFlight += 1;
    try {
      await serveMcp(req, res, url.searchParams);
    } finally {
      inFlight -= 1;
      if (inFlight === 0) idle?.();
    }
  };

  const handler = (async (req: IncomingMessage, res: ServerResponse) => {
    try {
      await route(req, res);
    } catch (error) {
      gateway.logger.error("the HTTP MCP handler failed", { error });
      if (!res.headersSent) sendRefusal(res, "INTERNAL_ERROR");
      else res.destroy();
    }
  }) as McpHttpHandler;

  Object.defineProperties(handler, {
    mode: { value: local ? "local" : "remote" },
    sessionCount: { get: () => sessions.size },
  });
  handler.drain = async (graceMs: number) => {
    draining = true;
    if (inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  };
  handler.limitUnauthenticated = (req: IncomingMessage) => {
    const meta = metaOf(req);
    const decision = preAuth.take(meta.rateKey);
    if (!decision.ok) {
      auditor.denied(
        { requestId: meta.requestId, sessionId: meta.sessionId },
        {
          code: "AUTH_RATE_LIMITED",
          check: "rate_limit_pre_auth",
          httpStatus: 429,
          addressHash: meta.addressHash,
        },
      );
    }
    return decision;
  };
  handler.close = async () => {
    draining = true;
    clearInterval(sweeper);
    await sessions.closeAll();
    auditor.flush();
    await authenticator.close();
  };
  return handler;
}
