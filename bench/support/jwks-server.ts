// The authorization server's part in the HTTP MCP benchmark: an RS256 key pair made with jose, its JWKS
// served over HTTPS with a fresh self-signed certificate (the resource servers trust it as a CA file, the
// way remote_mcp.jwks_ca_file does; TLS verification is never turned off), and access tokens minted with
// the private key as an authorization server would issue them (at+jwt, issuer, audience, scope, expiry).
// No token endpoint: the benchmark measures the resource servers, not the token grant.
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { selfSignedCertificate } from "../../src/simulator/certificate.ts";

export interface BenchAuthServer {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** PEM file of the certificate the JWKS is served with. */
  readonly caFile: string;
  /** How many times the JWKS was fetched (the resource servers cache it). */
  readonly jwksRequests: number;
  /** A token for `audience` naming `subject`, valid for an hour. */
  mint(options: { audience: string; subject: string; scope: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startBenchAuthServer(dir: string): Promise<BenchAuthServer> {
  const certificate = await selfSignedCertificate();
  const caFile = join(dir, "bench-auth-ca.pem");
  writeFileSync(caFile, certificate.cert);
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" }] });
  let jwksRequests = 0;
  const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    if (req.method === "GET" && req.url === "/jwks") {
      jwksRequests += 1;
      res.writeHead(200, { "content-type": "application/json" }).end(jwks);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `https://localhost:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    caFile,
    get jwksRequests() {
      return jwksRequests;
    },
    mint: ({ audience, subject, scope }) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ scope, client_id: subject, jti: randomUUID() })
        .setProtectedHeader({ alg: "RS256", kid, typ: "at+jwt" })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
