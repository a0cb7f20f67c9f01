// What `mcp serve --transport http` tells the person who started it, on stderr (stdout stays free for
// --json): the endpoint and mode, and in local mode the one place the bearer token is ever shown - inside a
// ready client configuration. The token goes nowhere else: not to the logger, not to the audit store. With
// --json the same facts are one JSON line on stdout, for scripts that start the server and connect to it.
import type { HttpMode } from "./mcp-http-plan.ts";

export interface Listening {
  readonly mode: HttpMode;
  /** The bound MCP endpoint (the real port, also when --bind asked for 0). */
  readonly endpoint: string;
  readonly backend: { readonly backend: string; readonly simulated: boolean };
  readonly scopes: number;
  readonly tools: number;
  readonly tls: boolean;
  /** Non-loopback address (remote mode with --enable-remote-mcp). */
  readonly exposed: boolean;
  readonly graceSeconds: number;
  /** Local mode: the token the client must send. */
  readonly token?: string;
  /** Remote mode: remote_mcp.resource and issuer. */
  readonly resource?: string;
  readonly issuer?: string;
}

/** A client configuration for MCP clients that take a URL and headers (the mcpServers shape). */
export function httpClientConfig(endpoint: string, token: string): Record<string, unknown> {
  return {
    mcpServers: {
      "ibkr-agent": { type: "http", url: endpoint, headers: { Authorization: `Bearer ${token}` } },
    },
  };
}

export function listeningJson(listening: Listening): Record<string, unknown> {
  return {
    status: "listening",
    transport: "http",
    mode: listening.mode,
    endpoint: listening.endpoint,
    ...(listening.token !== undefined
      ? { client_config: httpClientConfig(listening.endpoint, listening.token) }
      : { resource: listening.resource, issuer: listening.issuer }),
  };
}

export function listeningText(listening: Listening): string {
  const { backend } = listening;
  const data = backend.simulated ? " (SIMULATED DATA: nothing reaches IBKR)" : "";
  const lines: string[] = [];
  if (listening.mode === "local") {
    lines.push(
      "MCP over Streamable HTTP, local mode: only this machine can connect.",
      `Endpoint: ${listening.endpoint}`,
      `Backend:  ${backend.backend}${data}`,
      `Access:   ${listening.scopes} scopes, ${listening.tools} tools, as over stdio (add --describe to list them)`,
      "",
      "Connect an MCP client with this configuration (clients that take a URL and headers, such as",
      "Claude Code's .mcp.json or Cursor's mcp.json). Its bearer token is shown only now and changes at",
      "every start; anyone on this machine who has it can call these tools.",
      "",
      JSON.stringify(httpClientConfig(listening.endpoint, listening.token ?? ""), null, 2),
      "",
    );
  } else {
    lines.push(
      "MCP over Streamable HTTP, remote mode: an OAuth 2.1 resource server.",
      `Endpoint: ${listening.endpoint}`,
      `Resource: ${listening.resource ?? ""}`,
      `Issuer:   ${listening.issuer ?? ""}`,
      `Backend:  ${backend.backend}${data}`,
      `Access:   ${listening.scopes} scopes allowed to tokens, ${listening.tools} tools`,
    );
    if (listening.exposed && !listening.tls) {
      lines.push(
        "Plain HTTP on a network address: keep a TLS-terminating reverse proxy in front of it, or set",
        "remote_mcp.tls_cert_file and tls_key_file (docs/remote-mcp.md).",
      );
    }
  }
  lines.push(`Stop with Ctrl+C; calls in flight get up to ${listening.graceSeconds} s to finish.`);
  return `${lines.join("\n")}\n`;
}
