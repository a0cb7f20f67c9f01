// MCP over Streamable HTTP on a server of our own (node:http, or node:https when remote_mcp.tls_cert_file
// and tls_key_file are set; plain HTTP is for loopback or behind a TLS-terminating reverse proxy). It
// serves the mountable handler (http-handler.ts) and adds what only the owner of the sockets can do: the
// connection cap (answered 503 rather than dropped), the header cap (431) and request timeouts (408) as
// JSON refusals, keep-alive connections instead of one request per connection, the broker keep-alive and
// the background reconciler while serving, and a graceful shutdown that lets calls in flight finish.
import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ErrorCode } from "../../generated/errors.gen.ts";
import { isLoopbackHost } from "../auth/index.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { startReconcileLoop } from "../gateway/index.ts";
import { loadOrCreateIdentity } from "../sidecar/identity.ts";
import { createPairingEndpoints } from "../sidecar/pairing-claim.ts";
import { createPairingHttpRoute } from "../sidecar/pairing-http.ts";
import { readJsonBody } from "./http-body.ts";
import {
  createMcpHttpHandler,
  MCP_PATH,
  type McpHttpHandler,
  type McpHttpHandlerOptions,
} from "./http-handler.ts";
import { rawRefusal, sendRefusal } from "./http-responses.ts";

export interface McpHttpServerOptions extends McpHttpHandlerOptions {
  /** host:port to listen on; default remote_mcp.bind. Port 0 picks a free port (tests). */
  readonly bind?: string;
}

function relayPairingRoute(gateway: McpHttpServerOptions["gateway"]) {
  return createPairingHttpRoute({
    endpoints: createPairingEndpoints({
      store: gateway.store,
      config: gateway.loaded.config,
      identity: loadOrCreateIdentity(gateway.loaded.paths),
    }),
    readBody: readJsonBody,
    sessionId: gateway.sessionId,
  });
}

export interface McpHttpServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:8080/mcp. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly handler: McpHttpHandler;
  /** Stops accepting, lets calls in flight finish (remote_mcp.shutdown_grace_seconds), closes the gateway. */
  close(): Promise<void>;
}

export function parseBind(bind: string): { host: string; port: number } {
  const colon = bind.lastIndexOf(":");
  const host = bind.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(bind.slice(colon + 1)) };
}

/** Raw refusals for sockets without a request object (malformed requests, oversized headers, timeouts). */
const CLIENT_ERRORS: Record<string, { code: ErrorCode; status: number; reason: string }> = {
  HPE_HEADER_OVERFLOW: { code: "INPUT_TOO_LARGE", status: 431, reason: "Request Header Fields Too Large" },
  ERR_HTTP_REQUEST_TIMEOUT: { code: "INPUT_REQUEST_TIMEOUT", status: 408, reason: "Request Timeout" },
};

export async function serveMcpHttp(options: McpHttpServerOptions): Promise<McpHttpServer> {
  const { gateway } = options;
  const remote = gateway.loaded.config.remote_mcp;
  const { host, port } = parseBind(options.bind ?? remote.bind);
  if (options.localToken !== undefined && !isLoopbackHost(host)) {
    throw new GatewayError("CONFIG_REMOTE_MCP_FORBIDDEN", {
      message: `Local mode (no authorization server) serves only on a loopback address, not on ${host}.`,
      userAction:
        "Bind to 127.0.0.1 or [::1], or configure remote MCP (remote_mcp with an authorization server) for other addresses.",
    });
  }
  const handler = createMcpHttpHandler(options);
  // broker.backend relay: POST /relay/pair and /relay/unpair are where sidecars claim and end pairings.
  const pairingRoute = gateway.relay === null ? undefined : relayPairingRoute(gateway);
  const tls = remote.tls_cert_file !== undefined && remote.tls_key_file !== undefined;
  const requestTimeout = remote.request_timeout_seconds * 1000;
  const serverOptions = {
    maxHeaderSize: remote.max_header_bytes,
    requestTimeout,
    headersTimeout: requestTimeout,
    keepAliveTimeout: 5_000,
    // How often Node checks the two timeouts above; its default (30 s) would stretch a short limit.
    connectionsCheckingInterval: Math.min(1_000, requestTimeout),
  };
  const server: Server = tls
    ? createHttpsServer({
        ...serverOptions,
        cert: readFileSync(remote.tls_cert_file ?? ""),
        key: readFileSync(remote.tls_key_file ?? ""),
        minVersion: "TLSv1.2",
      })
    : createHttpServer(serverOptions);

  // Connections over the cap get a 503 answer on their first request instead of a reset, so a client can
  // tell "busy" from "down"; far beyond it sockets are closed at once, before any TLS handshake.
  const overCap = new WeakSet<object>();
  let accepted = 0;
  let raw = 0;
  server.on("connection", (socket: Socket) => {
    raw += 1;
    socket.once("close", () => {
      raw -= 1;
    });
    if (raw > remote.max_connections * 2 + 16) socket.destroy();
  });
  server.on(tls ? "secureConnection" : "connection", (socket: Socket) => {
    accepted += 1;
    socket.once("close", () => {
      accepted -= 1;
    });
    if (accepted > remote.max_connections) overCap.add(socket);
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    const responding =
      (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
    if (error.code === "ECONNRESET" || !socket.writable || responding) {
      socket.destroy();
      return;
    }
    const known = CLIENT_ERRORS[error.code ?? ""] ?? {
      code: "INPUT_INVALID_ARGUMENT" as const,
      status: 400,
      reason: "Bad Request",
    };
    socket.end(rawRefusal(known.code, known.status, known.reason));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (overCap.has(req.socket)) {
      sendRefusal(res, "SERVER_BUSY", {
        message: "The server is at its connection limit.",
        headers: { connection: "close", "retry-after": "1" },
      });
      return;
    }
    if (pairingRoute !== undefined && req.url?.startsWith("/relay/") === true) {
      // No bearer token guards the pairing requests: the pre-auth limit on the address does, as for /mcp.
      const limited = handler.limitUnauthenticated(req);
      if (!limited.ok) {
        sendRefusal(res, "AUTH_RATE_LIMITED", {
          headers: { "retry-after": String(limited.retryAfterSeconds) },
        });
        return;
      }
      void pairingRoute(req, res).then((handled) => (handled ? undefined : handler(req, res)));
      return;
    }
    void handler(req, res);
  });
  // broker.backend relay: sidecars connect here (GET /relay, upgraded to a WebSocket); nothing else upgrades.
  // Relay connections count against the connection cap like any other, and each upgrade against the
  // pre-auth limit on its address (the relay's handshake is its authentication).
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node's plain-HTTP server hands an upgrade's socket over with no 'error' listener: without this one, a
    // peer's reset while we refuse or hand on the upgrade would be an uncaught exception ending the server.
    socket.on("error", () => socket.destroy());
    if (gateway.relay === null) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    if (overCap.has(req.socket)) {
      socket.end(rawRefusal("SERVER_BUSY", 503, "Service Unavailable", { "retry-after": "1" }));
      return;
    }
    const limited = handler.limitUnauthenticated(req);
    if (!limited.ok) {
      socket.end(
        rawRefusal("AUTH_RATE_LIMITED", 429, "Too Many Requests", {
          "retry-after": String(limited.retryAfterSeconds),
        }),
      );
      return;
    }
    gateway.relay.handleUpgrade(req, socket, head);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address !== null ? address.port : port;
  const authority = host.includes(":") ? `[${host}]:${boundPort}` : `${host}:${boundPort}`;
  const url = `${tls ? "https" : "http"}://${authority}${MCP_PATH}`;

  // A relay gateway has no broker of its own: the sidecar keeps its session alive and reconciles its orders.
  if (gateway.relay === null) gateway.broker.client.session.startKeepAlive();
  const reconciler = gateway.relay === null ? startReconcileLoop(gateway) : { stop: async () => undefined };
  gateway.logger.info("serving MCP over Streamable HTTP", { url, mode: handler.mode, tls });

  const closedServer = new Promise<void>((resolve) => server.once("close", () => resolve()));
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      server.close();
      await handler.drain(remote.shutdown_grace_seconds * 1000);
      server.closeIdleConnections();
      await handler.close();
      server.closeAllConnections();
      await closedServer;
      await reconciler.stop();
      await gateway.close();
    })();
    return closing;
  };
  return { url, host, port: boundPort, handler, close };
}

/** Closes the server on SIGINT or SIGTERM; resolves once it has closed. */
export function closeOnSignals(server: McpHttpServer): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void server.close().then(resolve);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
