// MCP over stdio for local agent clients (Claude Desktop, Cursor, Continue, the inspector): one server per
// client process, the locally configured scopes, nothing but protocol on stdout. It keeps the broker
// session alive and reconciles the orders it placed while it runs, and stops cleanly when the client closes
// stdin or on SIGINT/SIGTERM.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { ToolName } from "../../generated/tools/registry.gen.ts";
import { type Gateway, startReconcileLoop } from "../gateway/index.ts";
import { createMcpServer } from "./server.ts";

export interface StdioServerOptions {
  readonly gateway: Gateway;
  readonly version: string;
  readonly renderText?: (tool: ToolName, result: unknown) => string;
  readonly stdin?: NodeJS.ReadableStream;
  readonly stdout?: NodeJS.WritableStream;
}

/** Serves until the client goes away; resolves after the gateway is closed. */
export async function serveStdio(options: StdioServerOptions): Promise<void> {
  const { gateway } = options;
  const server = createMcpServer({
    dispatcher: gateway.dispatcher,
    version: options.version,
    renderText: options.renderText,
    contextFor: ({ metadata }) => gateway.context({ metadata }),
  });
  const transport = new StdioServerTransport(
    options.stdin as import("node:stream").Readable | undefined,
    options.stdout as import("node:stream").Writable | undefined,
  );
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    (options.stdin ?? process.stdin).once("end", () => resolve());
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  gateway.broker.client.session.startKeepAlive();
  const reconciler = startReconcileLoop(gateway);
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
  await reconciler.stop();
  await gateway.close();
}
