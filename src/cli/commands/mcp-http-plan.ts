// What `mcp serve --transport http` may do with this configuration and these flags, decided before any
// socket is opened: the mode (remote when the configuration turns remote MCP on, local otherwise), the
// address, and the refusals. Local mode is a password on loopback and nothing else; a remote server that
// other machines can reach needs the configuration and, on top, the --enable-remote-mcp flag, so that
// neither a copied config file nor a typo in --bind alone can open the broker account to a network.
import { isLoopbackHost } from "../../auth/index.ts";
import { BIND_PATTERN } from "../../config/constants.ts";
import type { Config } from "../../config/index.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import { parseBind } from "../../mcp/http.ts";
import { MCP_PATH } from "../../mcp/http-handler.ts";

export type HttpMode = "local" | "remote";

export interface HttpFlags {
  /** --bind; default remote_mcp.bind. */
  readonly bind?: string;
  readonly enableRemoteMcp: boolean;
}

export interface HttpPlan {
  readonly mode: HttpMode;
  /** host:port as given (brackets kept for IPv6). */
  readonly bind: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** The address the server listens on, as a URL (port 0 until it is bound). */
  readonly origin: string;
  /** origin + /mcp. */
  readonly endpoint: string;
}

const DOCS = "docs/remote-mcp.md";

export function remoteConfigured(config: Config): boolean {
  return config.remote_mcp.enabled && config.safety.remote_mcp_enabled;
}

/** http(s)://host:port of a bound or planned address. */
export function originOf(host: string, port: number, tls: boolean): string {
  const authority = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return `${tls ? "https" : "http"}://${authority}`;
}

export function planHttp(config: Config, flags: HttpFlags): HttpPlan {
  const remote = config.remote_mcp;
  const bind = flags.bind ?? remote.bind;
  const { host, port } = parseBind(bind);
  if (!new RegExp(BIND_PATTERN).test(bind) || !(port >= 0 && port <= 65535)) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `--bind ${bind} is not host:port (for example 127.0.0.1:8080, or [::1]:8080 for IPv6).`,
      userAction: "Pass --bind HOST:PORT with a port from 0 to 65535 (0 picks a free port).",
      details: { field: "bind" },
    });
  }
  const mode: HttpMode = remoteConfigured(config) ? "remote" : "local";
  const loopback = isLoopbackHost(host);
  if (mode === "local" && flags.enableRemoteMcp) {
    throw new GatewayError("CONFIG_REMOTE_MCP_FORBIDDEN", {
      message: "--enable-remote-mcp was given, but the configuration does not turn remote MCP on.",
      userAction: `Set remote_mcp.enabled and safety.remote_mcp_enabled and complete the remote_mcp block (${DOCS}), or leave out --enable-remote-mcp to serve local mode on 127.0.0.1.`,
    });
  }
  if (mode === "local" && !loopback) {
    throw new GatewayError("CONFIG_REMOTE_MCP_FORBIDDEN", {
      message: `Local mode (no authorization server) serves only on a loopback address, not on ${host}.`,
      userAction: `Bind to 127.0.0.1 or [::1] (--bind 127.0.0.1:8080). To serve other machines, configure remote MCP with an authorization server (${DOCS}) and pass --enable-remote-mcp.`,
    });
  }
  if (mode === "remote" && !loopback && !flags.enableRemoteMcp) {
    throw new GatewayError("CONFIG_REMOTE_MCP_FORBIDDEN", {
      message: `Remote MCP on ${host}, an address other machines can reach, needs --enable-remote-mcp.`,
      userAction:
        "Add --enable-remote-mcp to confirm that this server may be reached from the network, or bind to 127.0.0.1.",
    });
  }
  const tls = remote.tls_cert_file !== undefined && remote.tls_key_file !== undefined;
  const origin = originOf(host, port, tls);
  return { mode, bind, host, port, tls, origin, endpoint: `${origin}${MCP_PATH}` };
}
