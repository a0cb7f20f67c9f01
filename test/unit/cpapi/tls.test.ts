// TLS against real HTTPS servers with real self-signed certificates: pinning works, an unpinned self-signed
// gateway is refused with a TLS-specific action, the localhost bypass works, and a closed port is reported
// as a gateway that is not running.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAuthStatus } from "../../../generated/cpapi/client.gen.ts";
import { createCpapiClient, replySimulated } from "../../../src/cpapi/index.ts";
import { caught, fixture } from "./helpers.ts";

interface Pems {
  cert: string;
  key: string;
}

async function certificate(): Promise<Pems> {
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

let pems: Pems;
let other: Pems;
let server: Server;
let port: number;
let requests = 0;

beforeAll(async () => {
  [pems, other] = await Promise.all([certificate(), certificate()]);
  server = createServer({ cert: pems.cert, key: pems.key }, (_req, res) => {
    requests += 1;
    res.writeHead(200, { "content-type": "application/json", "x-ibkr-simulator": "1" });
    res.end(JSON.stringify(fixture("getAuthStatus.authenticated").body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const base = () => `https://127.0.0.1:${port}/v1/api`;

describe("TLS to a real gateway", () => {
  it("works with the gateway's certificate pinned (caPem and caFile)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cpapi-tls-"));
    const caFile = join(dir, "gateway.pem");
    writeFileSync(caFile, pems.cert);
    for (const options of [{ caPem: pems.cert }, { caFile }]) {
      const client = createCpapiClient({ baseUrl: base(), ...options });
      expect(client.tlsMode()).toBe("pinned");
      const reply = await getAuthStatus(client.transport);
      expect(reply.body.authenticated).toBe(true);
      expect(replySimulated(reply)).toBe(true);
      expect(client.simulated()).toBe(true);
      const status = await client.session.status();
      expect(status.state).toBe("authenticated");
      await client.close();
    }
  });

  it("refuses a self-signed gateway without a pin, with a TLS-specific action and nothing served", async () => {
    const before = requests;
    const client = createCpapiClient({ baseUrl: base() });
    const error = await caught(getAuthStatus(client.transport));
    expect(error.code).toBe("BROKER_BACKEND_UNAVAILABLE");
    expect(error.retryable).toBe(false);
    expect(error.userAction).toContain("broker.ca_file");
    expect((error.details as { failure: string }).failure).toBe("tls");
    const status = await client.session.status();
    expect(status.state).toBe("not_running");
    expect(status.manualAction).toContain("broker.ca_file");
    expect(requests).toBe(before);
    await client.close();
  });

  it("refuses a gateway whose certificate is not the pinned one", async () => {
    const client = createCpapiClient({ baseUrl: base(), caPem: other.cert });
    const error = await caught(getAuthStatus(client.transport));
    expect(error.code).toBe("BROKER_BACKEND_UNAVAILABLE");
    expect((error.details as { failure: string }).failure).toBe("tls");
    await client.close();
  });

  it("skips verification only through the localhost bypass", async () => {
    const client = createCpapiClient({ baseUrl: base(), allowInsecureTlsForLocalhost: true });
    const reply = await getAuthStatus(client.transport);
    expect(reply.status).toBe(200);
    await client.close();
  });

  it("reports a closed port as a gateway that is not running at host:port", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = createCpapiClient({ baseUrl: `https://127.0.0.1:${closedPort}/v1/api`, caPem: pems.cert });
    const error = await caught(getAuthStatus(client.transport));
    expect(error.code).toBe("BROKER_BACKEND_UNAVAILABLE");
    expect(error.message).toBe(`The Client Portal Gateway is not running at 127.0.0.1:${closedPort}.`);
    expect(error.retryable).toBe(true);
    const status = await client.session.status();
    expect(status.state).toBe("not_running");
    expect(status.message).toBe(`The Client Portal Gateway is not running at 127.0.0.1:${closedPort}.`);
    await client.close();
  });
});
