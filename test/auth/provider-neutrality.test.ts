// The gateway works with any standards-conforming authorization server and any MCP client: no provider's
// SDK may become a production dependency (test servers such as oidc-provider stay devDependencies).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/run.ts";

/** Exact names and scopes of provider SDKs (AI vendors, identity providers, clouds). */
const PROVIDER_SDKS = [
  "openai",
  "@anthropic-ai/",
  "@google/generative-ai",
  "@google/genai",
  "@google-cloud/",
  "@mistralai/",
  "cohere-ai",
  "groq-sdk",
  "ai",
  "@ai-sdk/",
  "langchain",
  "@langchain/",
  "auth0",
  "@auth0/",
  "@okta/",
  "firebase",
  "firebase-admin",
  "@azure/",
  "@aws-sdk/",
  "aws-sdk",
  "@clerk/",
  "@supabase/",
  "keycloak-connect",
  "@workos-inc/",
  "stytch",
  "oidc-provider",
];

function isProviderSdk(name: string): boolean {
  return PROVIDER_SDKS.some((entry) => (entry.endsWith("/") ? name.startsWith(entry) : name === entry));
}

describe("provider neutrality", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };

  it("has no provider SDK among the production dependencies", () => {
    const production = Object.keys({
      ...pkg.dependencies,
      ...pkg.optionalDependencies,
      ...pkg.peerDependencies,
    });
    expect(production.filter(isProviderSdk)).toEqual([]);
  });

  it("would catch one", () => {
    expect(
      ["openai", "@aws-sdk/client-kms", "@okta/okta-auth-js", "jose", "openapi-typescript"].filter(
        isProviderSdk,
      ),
    ).toEqual(["openai", "@aws-sdk/client-kms", "@okta/okta-auth-js"]);
  });
});
