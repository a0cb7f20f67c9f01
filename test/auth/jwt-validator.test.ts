// Token validation rules with real keys and jose, against a local key set: algorithms, typ, issuer,
// audience, expiry and not-before at the edge of the skew, the subject claim, and granted scopes.
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createIdentityHasher, createTokenValidator, type TokenValidator } from "../../src/auth/index.ts";
import { createManualClock } from "../../src/core/clock.ts";

const ISSUER = "https://auth.example.com";
const RESOURCE = "https://mcp.example.com/mcp";
const NOW = 1_800_000_000;
const hasher = createIdentityHasher({ secret: Buffer.alloc(32, 7), fallback: () => "unused" });

let sign: (claims: JWTPayload, header?: { alg?: string; typ?: string }) => Promise<string>;
let validatorFor: (options?: { subjectClaim?: string; algorithms?: string[] }) => TokenValidator;

beforeAll(async () => {
  const rsa = await generateKeyPair("RS256");
  const ec = await generateKeyPair("ES256");
  const keys = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa", alg: "RS256" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec", alg: "ES256" },
    ],
  };
  sign = (claims, header = {}) => {
    const alg = header.alg ?? "RS256";
    return new SignJWT({
      iss: ISSUER,
      aud: RESOURCE,
      sub: "agent-1",
      client_id: "client-1",
      jti: "jti-1",
      exp: NOW + 600,
      scope: "ibkr:accounts:read ibkr:orders:paper:submit",
      ...claims,
    })
      .setProtectedHeader({ alg, kid: alg === "ES256" ? "ec" : "rsa", typ: header.typ ?? "at+jwt" })
      .sign(alg === "ES256" ? ec.privateKey : rsa.privateKey);
  };
  validatorFor = (options = {}) =>
    createTokenValidator({
      issuer: ISSUER,
      audiences: [RESOURCE],
      algorithms: options.algorithms ?? ["RS256", "ES256"],
      clockSkewSeconds: 60,
      subjectClaim: options.subjectClaim ?? "sub",
      allowedScopes: new Set(["ibkr:accounts:read", "ibkr:health:read"]),
      getKey: createLocalJWKSet(keys),
      hasher,
      clock: createManualClock(NOW * 1000),
    });
});

const refusal = async (validator: TokenValidator, token: string) => {
  const result = await validator(token);
  return result.ok ? "accepted" : `${result.failure.code}/${result.failure.check}`;
};

describe("createTokenValidator", () => {
  it("accepts a good token and grants the token's scopes intersected with the allowed ones", async () => {
    const result = await validatorFor()(await sign({}));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { identity } = result;
    expect(identity.subject).toBe("agent-1");
    expect([...identity.scopes]).toEqual(["ibkr:accounts:read"]);
    expect(identity.principal).toBe(hasher.principal(ISSUER, "agent-1"));
    expect(identity.auditMetadata).toEqual({
      issuer: ISSUER,
      audience: RESOURCE,
      signing_alg: "RS256",
      kid: "rsa",
      expires_at: new Date((NOW + 600) * 1000).toISOString(),
      token_id_hash: hasher.tokenId("jti-1"),
      client_id_hash: hasher.clientId("client-1"),
    });
  });

  it("reads scopes from scp as well (a list or a string), and grants nothing without any", async () => {
    const validator = validatorFor();
    const granted = async (claims: JWTPayload) => {
      const result = await validator(await sign({ scope: undefined, ...claims }));
      return result.ok ? [...result.identity.scopes].sort() : "refused";
    };
    expect(await granted({ scp: ["ibkr:health:read", "ibkr:accounts:read", "openid"] })).toEqual([
      "ibkr:accounts:read",
      "ibkr:health:read",
    ]);
    expect(await granted({ scp: "ibkr:health:read" })).toEqual(["ibkr:health:read"]);
    expect(await granted({})).toEqual([]);
  });

  it("honours the clock skew on expiry and not-before, and not a second more", async () => {
    const validator = validatorFor();
    // A token is expired from its exp on (RFC 7519 §4.1.4), so the skew stretches that to exp + 60.
    expect(await refusal(validator, await sign({ exp: NOW - 59 }))).toBe("accepted");
    expect(await refusal(validator, await sign({ exp: NOW - 60 }))).toBe("AUTH_TOKEN_EXPIRED/expiry");
    expect(await refusal(validator, await sign({ nbf: NOW + 60 }))).toBe("accepted");
    expect(await refusal(validator, await sign({ nbf: NOW + 61 }))).toBe("AUTH_TOKEN_EXPIRED/expiry");
    expect(await refusal(validator, await sign({ exp: undefined }))).toBe("AUTH_TOKEN_INVALID/claims");
  });

  it("accepts typ at+jwt, application/at+jwt, JWT or none, and refuses other token types", async () => {
    const validator = validatorFor();
    for (const typ of ["at+jwt", "application/at+jwt", "JWT"]) {
      expect(await refusal(validator, await sign({}, { typ }))).toBe("accepted");
    }
    for (const typ of ["dpop+jwt", "logout+jwt", "id_token"]) {
      expect(await refusal(validator, await sign({}, { typ }))).toBe("AUTH_TOKEN_INVALID/token_format");
    }
  });

  it("accepts only the configured algorithms", async () => {
    expect(await refusal(validatorFor(), await sign({}, { alg: "ES256" }))).toBe("accepted");
    expect(await refusal(validatorFor({ algorithms: ["RS256"] }), await sign({}, { alg: "ES256" }))).toBe(
      "AUTH_TOKEN_INVALID/token_format",
    );
    expect(() => validatorFor({ algorithms: ["RS256", "HS256"] })).toThrow(
      "only asymmetric token algorithms may be allowed",
    );
  });

  it("checks issuer and audience exactly", async () => {
    const validator = validatorFor();
    expect(await refusal(validator, await sign({ iss: `${ISSUER}/` }))).toBe("AUTH_INVALID_ISSUER/issuer");
    expect(await refusal(validator, await sign({ aud: `${RESOURCE}/` }))).toBe(
      "AUTH_INVALID_AUDIENCE/audience",
    );
    expect(await refusal(validator, await sign({ aud: ["https://other.example", RESOURCE] }))).toBe(
      "accepted",
    );
  });

  it("names the caller by the configured subject claim, which must be present", async () => {
    const byEmail = validatorFor({ subjectClaim: "email" });
    const result = await byEmail(await sign({ email: "trader@example.com" }));
    expect(result.ok && result.identity.subject).toBe("trader@example.com");
    expect(await refusal(byEmail, await sign({}))).toBe("AUTH_TOKEN_INVALID/claims");
    expect(await refusal(validatorFor(), await sign({ sub: "" }))).toBe("AUTH_TOKEN_INVALID/claims");
  });

  it("refuses tokens that are not compact JWS", async () => {
    const validator = validatorFor();
    expect(await refusal(validator, "abc")).toBe("AUTH_TOKEN_INVALID/token_format");
    const token = await sign({});
    expect(await refusal(validator, `${token}.extra`)).toBe("AUTH_TOKEN_INVALID/token_format");
    expect(await refusal(validator, `${token.slice(0, -2)}xx`)).toBe("AUTH_TOKEN_INVALID/signature");
  });
});
