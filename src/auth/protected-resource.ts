// What an OAuth client learns from this resource server: the RFC 9728 protected-resource metadata, where it
// lives, and the RFC 6750 WWW-Authenticate challenges that point to it. The metadata URL is built from the
// configured resource, never from the request's Host header, and is always absolute (MCP authorization
// spec; the seed's relative URL could not be followed).
import type { ScopeName } from "../../generated/scopes.gen.ts";

const WELL_KNOWN = "/.well-known/oauth-protected-resource";

export interface ResourceDescription {
  /** remote_mcp.resource: this server's public MCP URL. */
  readonly resource: string;
  readonly issuer: string;
  readonly scopes: readonly ScopeName[];
}

/** RFC 9728 §3.1: the well-known segment goes between the host and the resource's path. */
export function metadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}${WELL_KNOWN}${path}`;
}

/** Request paths that answer with the metadata: the bare well-known path, and the path-suffixed forms. */
export function metadataPaths(resource: string, endpointPath: string): string[] {
  const suffixed = new URL(metadataUrl(resource)).pathname;
  return [...new Set([WELL_KNOWN, suffixed, `${WELL_KNOWN}${endpointPath}`])];
}

export function protectedResourceMetadata(description: ResourceDescription): Record<string, unknown> {
  return {
    resource: description.resource,
    authorization_servers: [description.issuer],
    scopes_supported: [...description.scopes].sort(),
    bearer_methods_supported: ["header"],
    resource_name: "IBKR agent gateway (MCP)",
  };
}

export interface Challenge {
  readonly metadataUrl?: string;
  /** RFC 6750 §3.1 error code; absent when the request carried no credentials at all. */
  readonly error?: "invalid_request" | "invalid_token" | "insufficient_scope";
  readonly description?: string;
  readonly scope?: string;
}

/** Quoted-string content as RFC 9110 allows it, minus what would need escaping. */
function quotable(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, "").slice(0, 200);
}

export function bearerChallenge(challenge: Challenge): string {
  const params: string[] = [];
  if (challenge.metadataUrl !== undefined)
    params.push(`resource_metadata="${quotable(challenge.metadataUrl)}"`);
  if (challenge.error !== undefined) params.push(`error="${challenge.error}"`);
  if (challenge.scope !== undefined) params.push(`scope="${quotable(challenge.scope)}"`);
  if (challenge.description !== undefined)
    params.push(`error_description="${quotable(challenge.description)}"`);
  return params.length === 0 ? "Bearer" : `Bearer ${params.join(", ")}`;
}
