// The simulator as a real HTTPS server with a fresh self-signed certificate, for end-to-end tests, demos
// and `ibkr-agent simulator`. It listens on loopback only (IPv4 and, where available, IPv6 for
// "localhost"), turns each request into a fetch Request for the same msw handlers the in-process dispatcher
// uses, and resets the connection when the scenario says nothing is listening.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { getResponse, type RequestHandler } from "msw";
import type { CertificatePair } from "./certificate.ts";
import { LOST_RESPONSE_HEADER, SOURCE_HEADER, TRANSPORT_HEADER } from "./msw-handlers.ts";
import type { WebSocketServerSide } from "./websocket.ts";

/** Not 5000: that is the real Client Portal Gateway's port, and the two must never be confused. */
export const DEFAULT_SIMULATOR_PORT = 5055;
const MAX_BODY_BYTES = 1024 * 1024;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

export interface SimulatorServerOptions {
  readonly handlers: () => readonly RequestHandler[];
  /** Default 5055; 0 picks a free port. */
  readonly port?: number;
  /** localhost (IPv4 and IPv6 loopback, the default), 127.0.0.1 or ::1. */
  readonly host?: string;
  readonly certificate?: CertificatePair;
  /** Answers upgrades (the websocket /v1/api/ws); without it every upgrade is dropped. */
  readonly websocket?: WebSocketServerSide;
}

export interface SimulatorServer {
  /** e.g. https://localhost:5055/v1/api */
  readonly baseUrl: string;
  readonly origin: string;
  readonly port: number;
  /** Addresses actually bound, e.g. ["127.0.0.1", "::1"]. */
  readonly addresses: readonly string[];
  /** The certificate to pin (broker.ca_file). */
  readonly certificatePem: string;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startSimulatorServer(options: SimulatorServerOptions): Promise<SimulatorServer> {
  const host = options.host ?? "localhost";
  if (!LOOPBACK.has(host)) {
    throw new RangeError("The simulator listens on loopback only (localhost, 127.0.0.1 or ::1).");
  }
  // Loaded only when a server starts: certificate generation pulls in an X.509 library that would cost
  // every CLI start-up tens of milliseconds.
  const certificate =
    options.certificate ?? (await (await import("./certificate.ts")).selfSignedCertificate());
  const handle = (
    request: import("node:http").IncomingMessage,
    response: import("node:http").ServerResponse,
  ) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        response.writeHead(413, { "content-type": "text/plain" }).end("Request Entity Too Large");
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", async () => {
      if (response.writableEnded) return;
      try {
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers)) {
          const lower = name.toLowerCase();
          if (value === undefined || lower === SOURCE_HEADER || lower === TRANSPORT_HEADER) continue;
          headers.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        headers.set(SOURCE_HEADER, request.socket.remoteAddress ?? "unknown");
        headers.set(TRANSPORT_HEADER, "https");
        const method = request.method ?? "GET";
        const body =
          method === "GET" || method === "HEAD" || chunks.length === 0 ? undefined : Buffer.concat(chunks);
        const url = new URL(request.url ?? "/", `https://${request.headers.host ?? "localhost"}`);
        const answer = await getResponse(
          [...options.handlers()],
          new Request(url, { method, headers, body }),
        );
        if (answer === undefined) {
          response.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
          return;
        }
        if (answer.type === "error" || answer.headers.get(LOST_RESPONSE_HEADER) === "1") {
          // "Nothing listens here", or an answer lost on the way back: drop the connection without one.
          request.socket.destroy();
          return;
        }
        const out: Record<string, string> = {};
        answer.headers.forEach((value, name) => {
          out[name] = value;
        });
        const bytes = Buffer.from(await answer.arrayBuffer());
        out["content-length"] = String(bytes.length);
        response.writeHead(answer.status, out).end(bytes);
      } catch {
        if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
        response.end("Internal Server Error");
      }
    });
  };
  const servers: Server[] = [];
  const addresses: string[] = [];
  const make = () => {
    const server = createServer(
      { cert: certificate.cert, key: certificate.key, keepAliveTimeout: 30_000 },
      handle,
    );
    server.on("upgrade", (request, socket, head) => {
      if (options.websocket === undefined) socket.destroy();
      else options.websocket.upgrade(request, socket, head);
    });
    servers.push(server);
    return server;
  };
  const wanted = options.port ?? DEFAULT_SIMULATOR_PORT;
  let port: number;
  if (host === "localhost") {
    port = await listen(make(), wanted, "127.0.0.1");
    addresses.push("127.0.0.1");
    try {
      await listen(make(), port, "::1");
      addresses.push("::1");
    } catch {
      // No IPv6 loopback on this machine: IPv4 alone serves "localhost".
      servers.pop()?.close();
    }
  } else {
    const bind = host === "[::1]" ? "::1" : host;
    port = await listen(make(), wanted, bind);
    addresses.push(bind);
  }
  const hostInUrl = host === "::1" || host === "[::1]" ? "[::1]" : host;
  const origin = `https://${hostInUrl}:${port}`;
  return {
    origin,
    baseUrl: `${origin}/v1/api`,
    port,
    addresses,
    certificatePem: certificate.cert,
    async close() {
      // Upgraded sockets are no longer the HTTP server's to close, and would keep close() waiting.
      options.websocket?.closeAll();
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
