// MCP over Streamable HTTP inside an application's own server: the same handler `ibkr-agent mcp serve
// --transport http` serves, mounted on a gateway from createGateway(). It is a plain (request, response)
// function, so it fits a node:http request listener, an Express route or a Hono node-server handler. The
// application owns the sockets, so connection caps, header size, request timeouts and TLS are its job
// (docs/remote-mcp.md, "Embedding"); the handler brings everything else: origin checks, limits, the token
// check, sessions, the tools and the audit. While it is open it keeps the broker session alive and
// reconciles the orders it placed, as the CLI's servers do.
import type { ToolName } from "../../generated/tools/registry.gen.ts";
import { PACKAGE_VERSION } from "../core/version.ts";
import { startReconcileLoop } from "../gateway/index.ts";
import { createMcpHttpHandler as createHandler, type McpHttpHandler } from "../mcp/http-handler.ts";
import { composedGateway, type IbkrGateway } from "./create-gateway.ts";

export interface McpHttpHandlerOptions {
  /** The gateway whose tools, scopes, store and broker the handler serves (from createGateway()). */
  readonly gateway: IbkrGateway;
  /**
   * Local mode: the bearer token clients must send (at least 32 characters; randomLocalToken() makes one).
   * Callers get the gateway's configured scopes, as over stdio. Serve local mode on loopback only.
   * Without it the handler is the OAuth 2.1 resource server of the configuration's remote_mcp block, which
   * needs remote_mcp.enabled and safety.remote_mcp_enabled (CONFIG_REMOTE_MCP_FORBIDDEN otherwise).
   */
  readonly localToken?: string;
  /** The text content of a tool result, for clients that read only text; default the result as JSON. */
  readonly renderText?: (tool: ToolName, result: unknown) => string;
}

/**
 * A (req, res) handler for /mcp, /healthz, /readyz and the protected-resource metadata. Mount it at the root
 * of a server or under a prefix (strip the prefix from req.url first). close() ends its MCP sessions and
 * background work; close the gateway yourself afterwards.
 */
export function createMcpHttpHandler(options: McpHttpHandlerOptions): McpHttpHandler {
  const gateway = composedGateway(options.gateway);
  const handler = createHandler({
    gateway,
    version: PACKAGE_VERSION,
    ...(options.localToken !== undefined ? { localToken: options.localToken } : {}),
    ...(options.renderText !== undefined ? { renderText: options.renderText } : {}),
  });
  gateway.broker.client.session.startKeepAlive();
  const reconciler = startReconcileLoop(gateway);
  const closeHandler = handler.close;
  handler.close = async () => {
    await closeHandler();
    await reconciler.stop();
  };
  return handler;
}
