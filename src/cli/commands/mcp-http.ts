// `ibkr-agent mcp serve --transport http`: MCP over Streamable HTTP from the command line. The mode follows
// from the configuration (mcp-http-plan.ts): remote MCP configured means the OAuth resource server;
// otherwise local mode on loopback with a random token made here and shown once. The server itself is
// src/mcp/http.ts; this module only decides, announces and waits for SIGINT/SIGTERM, which let calls in
// flight finish before the process exits.
import { isLoopbackHost, randomLocalToken } from "../../auth/index.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import type { Gateway } from "../../gateway/index.ts";
import type { McpHttpServer } from "../../mcp/http.ts";
import type { Output } from "../output.ts";
import { type Listening, listeningJson, listeningText } from "./mcp-http-banner.ts";
import { describeHttp, reachableScopes, renderHttpDescription } from "./mcp-http-describe.ts";
import { type HttpPlan, planHttp } from "./mcp-http-plan.ts";

export interface HttpServeArgs {
  readonly bind?: string;
  readonly enableRemoteMcp: boolean;
  readonly describe: boolean;
  readonly config?: string;
}

/** Where the start-up text goes; stdout is kept for --json. */
export type Announce = (text: string) => void;

const toStderr: Announce = (text) => {
  process.stderr.write(text);
};

function listenFailure(error: unknown, plan: HttpPlan): GatewayError {
  const code = (error as { code?: string }).code;
  const reason =
    code === "EADDRINUSE"
      ? `${plan.bind} is already in use.`
      : code === "EACCES"
        ? `This user may not listen on ${plan.bind} (ports below 1024 need privileges).`
        : code === "EADDRNOTAVAIL"
          ? `${plan.host} is not an address of this machine.`
          : `The server could not listen on ${plan.bind}: ${(error as Error).message}`;
  return new GatewayError("CONFIG_INVALID", {
    message: reason,
    userAction:
      "Pick another address with --bind HOST:PORT (or remote_mcp.bind in the configuration), or stop what listens there.",
    details: { field: "remote_mcp.bind" },
    cause: error,
  });
}

function listening(gateway: Gateway, plan: HttpPlan, server: McpHttpServer, token?: string): Listening {
  const remote = gateway.loaded.config.remote_mcp;
  const scopes = reachableScopes(gateway, plan.mode);
  return {
    mode: plan.mode,
    endpoint: server.url,
    backend: gateway.broker.source(),
    scopes: scopes.size,
    tools: gateway.dispatcher.toolsFor(scopes).length,
    tls: plan.tls,
    exposed: !isLoopbackHost(server.host),
    graceSeconds: remote.shutdown_grace_seconds,
    ...(token !== undefined ? { token } : {}),
    ...(remote.resource !== undefined ? { resource: remote.resource } : {}),
    ...(remote.issuer !== undefined ? { issuer: remote.issuer } : {}),
  };
}

export async function serveHttp(args: HttpServeArgs, output: Output, announce = toStderr): Promise<void> {
  const { loadConfigAsync } = await import("../../config/load-core.ts");
  const loaded = await loadConfigAsync(args.config ? { file: args.config } : {});
  const plan = planHttp(loaded.config, {
    ...(args.bind !== undefined ? { bind: args.bind } : {}),
    enableRemoteMcp: args.enableRemoteMcp,
  });
  const { composeGateway } = await import("../../gateway/index.ts");
  const gateway = await composeGateway({ frontDoor: "mcp_http", loaded });
  if (args.describe) {
    try {
      const description = describeHttp(gateway, plan);
      if (output.json) output.data(description);
      else renderHttpDescription(description, output);
    } finally {
      await gateway.close();
    }
    return;
  }
  const [{ serveMcpHttp, closeOnSignals }, { renderResult }, { PACKAGE_VERSION }] = await Promise.all([
    import("../../mcp/http.ts"),
    import("../render/result.ts"),
    import("../version.ts"),
  ]);
  const token = plan.mode === "local" ? randomLocalToken() : undefined;
  let server: McpHttpServer;
  try {
    server = await serveMcpHttp({
      gateway,
      version: PACKAGE_VERSION,
      renderText: renderResult,
      bind: plan.bind,
      ...(token !== undefined ? { localToken: token } : {}),
    });
  } catch (error) {
    await gateway.close();
    // Refusals of the server itself are ours already; a socket error is about the address.
    if (isGatewayError(error) || typeof (error as { code?: unknown }).code !== "string") throw error;
    throw listenFailure(error, plan);
  }
  const stopped = closeOnSignals(server);
  const facts = listening(gateway, plan, server, token);
  if (output.json) output.text(JSON.stringify(listeningJson(facts)));
  else announce(listeningText(facts));
  await stopped;
  if (output.json) output.text(JSON.stringify({ status: "stopped" }));
  else announce("Stopped.\n");
}
