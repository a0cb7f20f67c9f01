// A real OAuth 2.1 authorization server for the remote MCP tests: oidc-provider over HTTPS with a fresh
// self-signed certificate (which the resource server trusts through remote_mcp.jwks_ca_file; TLS
// verification is never turned off), the client credentials grant with resource indicators (RFC 8707), and
// RS256 JWT access tokens whose audience is the requested resource. For the attack corpus it also mints
// tokens with jose directly - with its own key and other claims, or with keys it does not publish - and its
// JWKS endpoint can be made to fail in the ways a real one fails (down, garbage, hanging, redirecting, huge).
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import Provider, { errors } from "oidc-provider";
import { Agent, fetch as undiciFetch } from "undici";
import { selfSignedCertificate } from "../../src/simulator/certificate.ts";

export type JwksMode = "normal" | "down" | "error" | "garbage" | "hang" | "redirect" | "huge";

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
  readonly publicPem: string;
}

export interface MintOptions {
  /** Key to sign with: the server's current key (default), one it does not publish, or any other. */
  readonly key?: SigningKey;
  readonly alg?: string;
  /** Header kid; default the key's kid; null omits it. */
  readonly kid?: string | null;
  /** Header typ; default at+jwt; null omits it. */
  readonly typ?: string | null;
  /** Seconds since the epoch that the token's iat, exp and nbf are relative to. */
  readonly now?: number;
}

export interface TestAuthServer {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** PEM file of the certificate the server presents (trusted as a CA by the resource server). */
  readonly caFile: string;
  /** A fetch that trusts the server's certificate, for MCP clients. */
  readonly fetch: typeof fetch;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly currentKey: SigningKey;
  /** A key in no JWKS: what an attacker signs with. */
  readonly attackerKey: SigningKey;
  jwksMode: JwksMode;
  /** How many times /jwks was asked. */
  readonly jwksRequests: number;
  /** A token from the real token endpoint (client credentials, resource indicator). */
  clientCredentialsToken(scope: string, resource?: string): Promise<string>;
  /** A token signed with jose directly; claims default to what the real server would issue. */
  mint(claims?: JWTPayload, options?: MintOptions): Promise<string>;
  /** Starts signing with a new key; the JWKS then publishes the new key and the old one. */
  rotateKeys(): Promise<SigningKey>;
  close(): Promise<void>;
}

export interface AuthServerOptions {
  /** The resource (audience) tokens are issued for. */
  readonly resource: string;
  /** Scopes the resource server knows; the client may request any of them. */
  readonly scopes: readonly string[];
  /** Directory to write the certificate file into. */
  readonly dir: string;
}

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" },
    publicPem: await exportSPKI(publicKey),
  };
}

/** oidc-provider's storage: an in-memory map (its built-in one works too, but warns on every start). */
class MemoryAdapter {
  static readonly rows = new Map<string, unknown>();
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  async upsert(id: string, payload: unknown) {
    MemoryAdapter.rows.set(`${this.name}:${id}`, payload);
  }
  async find(id: string) {
    return MemoryAdapter.rows.get(`${this.name}:${id}`) as never;
  }
  async findByUserCode() {
    return undefined;
  }
  async findByUid() {
    return undefined;
  }
  async consume() {}
  async destroy(id: string) {
    MemoryAdapter.rows.delete(`${this.name}:${id}`);
  }
  async revokeByGrantId() {}
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An unsigned token (alg none), which no validator may accept. */
export function unsignedToken(claims: JWTPayload): string {
  return `${b64url({ alg: "none", typ: "at+jwt" })}.${b64url(claims)}.`;
}

export async function startAuthServer(options: AuthServerOptions): Promise<TestAuthServer> {
  const certificate = await selfSignedCertificate();
  const caFile = join(options.dir, "auth-server-ca.pem");
  writeFileSync(caFile, certificate.cert);
  const clientId = "agent-client";
  const clientSecret = `secret-${randomUUID()}`;
  let keys = [await newSigningKey()];
  const attackerKey = await newSigningKey();
  let jwksMode: JwksMode = "normal";
  let jwksRequests = 0;
  let provider: Provider | null = null;

  const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    if (req.url?.startsWith("/jwks")) {
      jwksRequests += 1;
      if (serveBrokenJwks(req, res)) return;
    }
    void provider?.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `https://localhost:${port}`;

  function serveBrokenJwks(req: IncomingMessage, res: ServerResponse): boolean {
    switch (jwksMode) {
      case "normal":
        return false;
      case "down":
        req.socket.destroy();
        return true;
      case "error":
        res.writeHead(503).end();
        return true;
      case "garbage":
        res.writeHead(200, { "content-type": "application/json" }).end("<html>not a key set</html>");
        return true;
      case "hang":
        return true;
      case "redirect":
        res.writeHead(302, { location: `${issuer}/jwks?again=1` }).end();
        return true;
      case "huge": {
        const filler = Array.from({ length: 2000 }, (_, i) => ({
          ...keys[0]?.publicJwk,
          kid: `filler-${i}`,
        }));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: filler }));
        return true;
      }
    }
  }

  const build = () =>
    new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          grant_types: ["client_credentials"],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: "client_secret_basic",
          scope: options.scopes.join(" "),
        },
      ],
      jwks: { keys: keys.map((key) => key.privateJwk) },
      scopes: [...options.scopes],
      cookies: { keys: [randomUUID()] },
      adapter: MemoryAdapter,
      ttl: { ClientCredentials: () => 600 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => options.resource,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            if (indicator !== options.resource) throw new errors.InvalidTarget();
            return {
              scope: options.scopes.join(" "),
              audience: indicator,
              accessTokenTTL: 600,
              accessTokenFormat: "jwt",
              jwt: { sign: { alg: "RS256" } },
            };
          },
        },
      },
    });
  provider = build();

  const agent = new Agent({ connect: { ca: certificate.cert } });
  const trustingFetch = ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(
      input as string,
      { ...(init as object), dispatcher: agent } as never,
    )) as unknown as typeof fetch;

  const current = () => keys[0] as SigningKey;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    caFile,
    fetch: trustingFetch,
    clientId,
    clientSecret,
    get currentKey() {
      return current();
    },
    attackerKey,
    get jwksMode() {
      return jwksMode;
    },
    set jwksMode(mode: JwksMode) {
      jwksMode = mode;
    },
    get jwksRequests() {
      return jwksRequests;
    },
    async clientCredentialsToken(scope, resource = options.resource) {
      const response = await trustingFetch(`${issuer}/token`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ grant_type: "client_credentials", scope, resource }).toString(),
      });
      const body = (await response.json()) as { access_token?: string; error?: string };
      if (body.access_token === undefined) throw new Error(`token request failed: ${body.error}`);
      return body.access_token;
    },
    async mint(claims = {}, mintOptions = {}) {
      const key = mintOptions.key ?? current();
      const now = mintOptions.now ?? Math.floor(Date.now() / 1000);
      const payload: JWTPayload = {
        iss: issuer,
        aud: options.resource,
        sub: clientId,
        client_id: clientId,
        scope: options.scopes.join(" "),
        jti: randomUUID(),
        iat: now,
        exp: now + 600,
        ...claims,
      };
      const alg = mintOptions.alg ?? "RS256";
      const header: { alg: string; kid?: string; typ?: string } = { alg };
      const kid = mintOptions.kid === undefined ? key.kid : mintOptions.kid;
      if (kid !== null) header.kid = kid;
      const typ = mintOptions.typ === undefined ? "at+jwt" : mintOptions.typ;
      if (typ !== null) header.typ = typ;
      // HS* "signed" with the RSA public key: the classic key-confusion attack.
      const signingKey = alg.startsWith("HS") ? new TextEncoder().encode(key.publicPem) : key.privateKey;
      return new SignJWT(payload).setProtectedHeader(header).sign(signingKey);
    },
    async rotateKeys() {
      const fresh = await newSigningKey();
      keys = [fresh, ...keys];
      provider = build();
      return fresh;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
