// RFC 9728 metadata locations and RFC 6750 challenges, always with an absolute metadata URL.
import { describe, expect, it } from "vitest";
import {
  bearerChallenge,
  metadataPaths,
  metadataUrl,
  protectedResourceMetadata,
} from "../../src/auth/index.ts";

describe("protected-resource metadata", () => {
  it("puts the well-known segment between the host and the resource path", () => {
    expect(metadataUrl("https://mcp.example.com/mcp")).toBe(
      "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
    );
    expect(metadataUrl("https://mcp.example.com/")).toBe(
      "https://mcp.example.com/.well-known/oauth-protected-resource",
    );
    expect(metadataUrl("https://example.com:8443/ibkr/mcp/")).toBe(
      "https://example.com:8443/.well-known/oauth-protected-resource/ibkr/mcp",
    );
  });

  it("answers at the bare path, the resource's path and the endpoint's path", () => {
    expect(metadataPaths("https://example.com/ibkr/mcp", "/mcp")).toEqual([
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-protected-resource/ibkr/mcp",
      "/.well-known/oauth-protected-resource/mcp",
    ]);
  });

  it("names the resource, its authorization server and the scopes, and no key set of its own", () => {
    expect(
      protectedResourceMetadata({
        resource: "https://mcp.example.com/mcp",
        issuer: "https://auth.example.com",
        scopes: ["ibkr:health:read", "ibkr:accounts:read"],
      }),
    ).toEqual({
      resource: "https://mcp.example.com/mcp",
      authorization_servers: ["https://auth.example.com"],
      scopes_supported: ["ibkr:accounts:read", "ibkr:health:read"],
      bearer_methods_supported: ["header"],
      resource_name: "IBKR agent gateway (MCP)",
    });
  });
});

describe("bearerChallenge", () => {
  it("writes the RFC 6750 parameters in a fixed order, quoting safely", () => {
    expect(bearerChallenge({ metadataUrl: "https://m.example/.well-known/oauth-protected-resource" })).toBe(
      'Bearer resource_metadata="https://m.example/.well-known/oauth-protected-resource"',
    );
    expect(
      bearerChallenge({
        metadataUrl: "https://m.example/x",
        error: "insufficient_scope",
        scope: "ibkr:health:read",
        description: 'a "quoted" \\ text\n',
      }),
    ).toBe(
      'Bearer resource_metadata="https://m.example/x", error="insufficient_scope", scope="ibkr:health:read", error_description="a quoted  text"',
    );
    expect(bearerChallenge({})).toBe("Bearer");
  });
});
