// `mcp serve --transport http --describe`: what a client of this server would meet - the endpoint, the mode,
// how it authenticates (the local token, or the OAuth issuer, resource and algorithms), and the scopes and
// tools it can reach at most - without opening a socket. The JSON form is stable; scripts and deployment
// checks compare it.
import { isScopeName, type ScopeName } from "../../../generated/scopes.gen.ts";
import { TOOLS } from "../../../generated/tools/registry.gen.ts";
import { metadataUrl } from "../../auth/index.ts";
import type { Gateway } from "../../gateway/index.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render/table.ts";
import type { HttpPlan } from "./mcp-http-plan.ts";

export type HttpAuthDescription =
  | { readonly kind: "local_token" }
  | {
      readonly kind: "oauth";
      readonly issuer: string;
      readonly jwks_url: string;
      readonly resource: string;
      readonly audiences: readonly string[];
      readonly metadata_url: string;
      readonly allowed_algorithms: readonly string[];
      readonly allowed_scopes: readonly string[];
    };

export interface HttpDescription {
  readonly transport: "http";
  readonly mode: HttpPlan["mode"];
  readonly endpoint: string;
  readonly bind: string;
  readonly tls: boolean;
  readonly health: { readonly healthz: string; readonly readyz: string };
  readonly backend: { readonly backend: string; readonly simulated: boolean };
  readonly config: string;
  readonly profile: string;
  readonly auth: HttpAuthDescription;
  /** The most a caller can hold: the local scopes, or remote_mcp.allowed_scopes (a token gets its own ∩ these). */
  readonly scopes: readonly ScopeName[];
  readonly tools: readonly { readonly name: string; readonly scope: string; readonly tier: string }[];
}

/** Scopes a caller of this mode can hold at most. */
export function reachableScopes(gateway: Gateway, mode: HttpPlan["mode"]): ReadonlySet<ScopeName> {
  if (mode === "local") return gateway.localScopes;
  return new Set(
    gateway.loaded.config.remote_mcp.allowed_scopes.filter((s): s is ScopeName => isScopeName(s)),
  );
}

export function describeHttp(gateway: Gateway, plan: HttpPlan): HttpDescription {
  const remote = gateway.loaded.config.remote_mcp;
  const scopes = reachableScopes(gateway, plan.mode);
  const auth: HttpAuthDescription =
    plan.mode === "local"
      ? { kind: "local_token" }
      : {
          kind: "oauth",
          issuer: remote.issuer ?? "",
          jwks_url: remote.jwks_url ?? "",
          resource: remote.resource ?? "",
          audiences: [...remote.audiences],
          metadata_url: remote.resource !== undefined ? metadataUrl(remote.resource) : "",
          allowed_algorithms: [...remote.allowed_algorithms],
          allowed_scopes: [...scopes].sort(),
        };
  return {
    transport: "http",
    mode: plan.mode,
    endpoint: plan.endpoint,
    bind: plan.bind,
    tls: plan.tls,
    health: { healthz: `${plan.origin}/healthz`, readyz: `${plan.origin}/readyz` },
    backend: gateway.broker.source(),
    config: gateway.loaded.source,
    profile: gateway.loaded.paths.profile,
    auth,
    scopes: [...scopes].sort(),
    tools: gateway.dispatcher
      .toolsFor(scopes)
      .map((name) => ({ name, scope: TOOLS[name].scope, tier: TOOLS[name].tier })),
  };
}

function authLines(auth: HttpAuthDescription): string[] {
  if (auth.kind === "local_token") {
    return ["Auth:          a random bearer token, made at each start and printed once on the terminal"];
  }
  return [
    `Auth:          OAuth 2.1 bearer tokens (JWT) issued by ${auth.issuer}`,
    `Resource:      ${auth.resource} (tokens must name it as their audience)`,
    ...(auth.audiences.length > 1 || auth.audiences[0] !== auth.resource
      ? [`Audiences:     ${auth.audiences.join(", ")}`]
      : []),
    `Metadata:      ${auth.metadata_url}`,
    `Signing keys:  ${auth.jwks_url} (${auth.allowed_algorithms.join(", ")})`,
  ];
}

export function renderHttpDescription(description: HttpDescription, output: Output): void {
  const { backend } = description;
  const where =
    description.mode === "local"
      ? "local mode (this machine only)"
      : "remote mode (OAuth 2.1 resource server)";
  output.text(`MCP over Streamable HTTP, ${where}`);
  output.text(`Endpoint:      ${description.endpoint}${description.tls ? " (TLS)" : ""}`);
  output.text(`Health:        ${description.health.healthz}, ${description.health.readyz}`);
  output.text(`Backend:       ${backend.backend}${backend.simulated ? " (simulated)" : ""}`);
  output.text(`Configuration: ${description.config}, profile ${description.profile}`);
  for (const line of authLines(description.auth)) output.text(line);
  const scopeNote = description.mode === "remote" ? " (a token gets its own scopes within these)" : "";
  output.text(`Scopes:        ${description.scopes.join(", ") || "none"}${scopeNote}\n`);
  output.text(
    renderTable(description.tools, [
      { header: "TOOL", value: (t) => t.name },
      { header: "TIER", value: (t) => t.tier },
      { header: "SCOPE", value: (t) => t.scope },
    ]),
  );
}
