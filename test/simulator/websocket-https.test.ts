// The websocket of the spawned HTTPS simulator (`ibkr-agent simulator`): the same protocol as in-process,
// on the server's upgrade for /v1/api/ws, over TLS with the pinned certificate. A raw `ws` client sees the
// wire; the client module (createCpapiWebSocket + readDepthBook) takes one book; without the certificate
// the websocket is refused as untrusted, like the REST client.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { getTickle } from "../../generated/cpapi/client.gen.ts";
import { isGatewayError } from "../../src/core/gateway-error.ts";
import { type CpapiClient, createCpapiClient } from "../../src/cpapi/index.ts";
import { createCpapiWebSocket, readDepthBook } from "../../src/cpapi/websocket.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";

let sim: SpawnedSimulator;
let noSession: SpawnedSimulator;
let client: CpapiClient;

beforeAll(async () => {
  [sim, noSession] = await Promise.all([
    spawnSimulator(["--scenario", "healthy", "--seed", "1", "--time", "2026-12-01T15:00:00Z"]),
    spawnSimulator(["--scenario", "no-session", "--seed", "1", "--time", "2026-12-01T15:00:00Z"]),
  ]);
  client = createCpapiClient({ baseUrl: sim.baseUrl, caFile: sim.certificateFile });
});

afterAll(async () => {
  await client?.close();
  await Promise.all([sim?.stop(), noSession?.stop()]);
});

function wsUrl(server: SpawnedSimulator, path = "/v1/api/ws"): string {
  return `wss://localhost:${server.port}${path}`;
}

interface Wire {
  readonly socket: WebSocket;
  /** Resolves with the next message (parsed JSON). */
  next(): Promise<unknown>;
}

/** A raw ws client trusting only the simulator's certificate; resolves once the socket is open. */
function connect(server: SpawnedSimulator): Promise<Wire> {
  const socket = new WebSocket(wsUrl(server), { ca: readFileSync(server.certificateFile, "utf8") });
  const queue: unknown[] = [];
  const waiters: ((value: unknown) => void)[] = [];
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString());
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const wire: Wire = {
    socket,
    next: () =>
      new Promise((resolve) => {
        if (queue.length > 0) resolve(queue.shift());
        else waiters.push(resolve);
      }),
  };
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(wire));
    socket.once("error", reject);
  });
}

/** The HTTP status an upgrade was answered with, for a refused upgrade. */
function upgradeStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { ca });
    socket.on("unexpected-response", (request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      request.destroy();
    });
    socket.on("open", () => {
      socket.terminate();
      reject(new Error("the upgrade was accepted"));
    });
    socket.on("error", () => {});
  });
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; details: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (isGatewayError(error)) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error("expected a failure");
}

describe("the websocket of the spawned HTTPS simulator", () => {
  it("speaks the CPAPI protocol over TLS: waiting for session, the tickle's session, sbd, ubd", async () => {
    const wire = await connect(sim);
    try {
      expect(await wire.next()).toEqual({ message: "waiting for session" });
      const session = (await getTickle(client.transport, {}, { fresh: true })).body as { session: string };
      wire.socket.send(JSON.stringify({ session: session.session }));
      expect(await wire.next()).toEqual({
        topic: "system",
        success: "simuser01",
        isFT: false,
        isPaper: true,
      });
      expect(await wire.next()).toMatchObject({
        topic: "sts",
        args: { authenticated: true, competing: false },
      });

      wire.socket.send("sbd+DU1234567+265598+NASDAQ");
      const book = (await wire.next()) as {
        topic: string;
        data: { price: string; bid?: string; ask?: string }[];
      };
      expect(book.topic).toBe("sbd+DU1234567+265598");
      expect(book.data.filter((r) => r.bid !== undefined)).toHaveLength(20);
      expect(book.data.filter((r) => r.ask !== undefined)).toHaveLength(20);
      const bestBid = Number(book.data.find((r) => r.bid !== undefined)?.price);
      const bestAsk = Number(book.data.filter((r) => r.ask !== undefined).at(-1)?.price);
      expect(bestBid).toBeLessThan(bestAsk);

      wire.socket.send("tic");
      // A depth push may come first: the server refreshes the book every second.
      let answer = (await wire.next()) as { topic: string };
      while (answer.topic.startsWith("sbd")) answer = (await wire.next()) as { topic: string };
      expect(answer).toMatchObject({ topic: "tic", alive: true });
      wire.socket.send("ubd+DU1234567");
    } finally {
      wire.socket.close();
    }
  });

  it("refuses the upgrade with 401 while nobody is logged in, and answers 404 off /v1/api/ws", async () => {
    const ca = readFileSync(sim.certificateFile, "utf8");
    expect(await upgradeStatus(wsUrl(noSession), readFileSync(noSession.certificateFile, "utf8"))).toBe(401);
    expect(await upgradeStatus(wsUrl(sim, "/v1/api/websocket"), ca)).toBe(404);
  });

  it("gives the client module one book with the pinned certificate", async () => {
    const socket = createCpapiWebSocket({ baseUrl: sim.baseUrl, caFile: sim.certificateFile });
    expect(socket.tlsMode).toBe("pinned");
    expect(socket.url).toBe(`wss://localhost:${sim.port}/v1/api/ws`);
    const book = await readDepthBook(socket, client.transport, {
      accountId: "DU1234567",
      conid: "265598",
      exchange: "NASDAQ",
    });
    expect(book.rows.length).toBeGreaterThanOrEqual(40);
    expect(book.rows[0]).toMatchObject({ row: 0, focus: 0 });
  });

  it("is refused as untrusted without the certificate, like the REST client", async () => {
    const socket = createCpapiWebSocket({ baseUrl: sim.baseUrl });
    expect(socket.tlsMode).toBe("system");
    expect(
      await failure(readDepthBook(socket, client.transport, { accountId: "DU1234567", conid: "265598" })),
    ).toEqual({
      code: "BROKER_BACKEND_UNAVAILABLE",
      details: expect.objectContaining({ failure: "tls", channel: "websocket" }),
    });
  });

  it("takes the localhost bypass only where the REST client would", async () => {
    const socket = createCpapiWebSocket({ baseUrl: sim.baseUrl, allowInsecureTlsForLocalhost: true });
    expect(socket.tlsMode).toBe("insecure-localhost");
    const book = await readDepthBook(socket, client.transport, { accountId: "DU1234567", conid: "756733" });
    expect(book.rows.length).toBeGreaterThanOrEqual(40);
    expect(() =>
      createCpapiWebSocket({
        baseUrl: "https://gateway.example.com/v1/api",
        allowInsecureTlsForLocalhost: true,
      }),
    ).toThrow(expect.objectContaining({ code: "CONFIG_TLS_BYPASS_NON_LOCALHOST" }));
  });

  it("answers no-session with the session error at the REST step, before any websocket", async () => {
    const noSessionClient = createCpapiClient({
      baseUrl: noSession.baseUrl,
      caFile: noSession.certificateFile,
    });
    try {
      const socket = createCpapiWebSocket({ baseUrl: noSession.baseUrl, caFile: noSession.certificateFile });
      expect(
        (
          await failure(
            readDepthBook(socket, noSessionClient.transport, { accountId: "DU1234567", conid: "265598" }),
          )
        ).code,
      ).toBe("BROKER_SESSION_REQUIRED");
    } finally {
      await noSessionClient.close();
    }
  });
});
