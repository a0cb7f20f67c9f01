// The client side of the websocket (src/cpapi/websocket.ts readDepthBook) against the in-process
// simulator, with a recording wrapper around its connection: what the client sends and in which order
// (the session value only in answer to "waiting for session", sbd after sts, ubd then close whatever the
// outcome), and how every failure maps to the catalogue. Timeouts are bounded waits of a few milliseconds;
// nothing asserts how long they took.
import { afterEach, describe, expect, it } from "vitest";
import { isGatewayError } from "../../src/core/gateway-error.ts";
import {
  type CpapiWebSocket,
  DEPTH_BOOK_TIMEOUT_MS,
  readDepthBook,
  type WebSocketHandlers,
} from "../../src/cpapi/websocket.ts";
import { sessionToken } from "../../src/simulator/routes/session.ts";
import { type TestSimulator, testSimulator } from "../support/simulator.ts";

let current: TestSimulator | null = null;
afterEach(async () => {
  await current?.close();
  current = null;
});

interface Recorder extends CpapiWebSocket {
  readonly sent: string[];
  readonly closed: number[];
}

/** The simulator's in-process socket, recording what the client sends; `drop` swallows matching sends. */
function recorder(
  t: TestSimulator,
  options: { drop?: (text: string) => boolean; rewrite?: (text: string) => string } = {},
): Recorder {
  const sent: string[] = [];
  const closed: number[] = [];
  return {
    where: "localhost:5055",
    sent,
    closed,
    open(handlers: WebSocketHandlers) {
      const socket = t.sim.websocket(handlers);
      return {
        send(text) {
          sent.push(text);
          if (options.drop?.(text)) return;
          socket.send(options.rewrite ? options.rewrite(text) : text);
        },
        close(code) {
          closed.push(code ?? 1000);
          socket.close(code);
        },
      };
    },
  };
}

/** A connection that never opens nor answers: only the client's own timer ends the wait. */
function silent(): Recorder {
  const closed: number[] = [];
  return {
    where: "localhost:5055",
    sent: [],
    closed,
    open: () => ({ send: () => {}, close: (code) => closed.push(code ?? 1000) }),
  };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; details: unknown; text: string }> {
  try {
    await promise;
  } catch (error) {
    if (isGatewayError(error)) {
      return { code: error.code, details: error.details, text: `${error.message} ${error.userAction}` };
    }
    throw error;
  }
  throw new Error("expected a failure");
}

function setup(scenario = "healthy") {
  const t = testSimulator({ scenario, seed: 1 });
  current = t;
  return { t, transport: t.client().transport };
}

const AAPL = { accountId: "DU1234567", conid: "265598" };

describe("readDepthBook", () => {
  it("answers the session request once, subscribes after sts, then unsubscribes and closes", async () => {
    const { t, transport } = setup();
    const socket = recorder(t);
    const book = await readDepthBook(socket, transport, { ...AAPL, exchange: "NASDAQ" });
    const sized = (side: string) =>
      book.rows.filter((row) => (row as Record<string, unknown>)[side] !== undefined);
    expect([sized("bid").length, sized("ask").length]).toEqual([20, 20]);
    expect(socket.sent).toEqual([
      JSON.stringify({ session: sessionToken(t.sim.state) }),
      "sbd+DU1234567+265598+NASDAQ",
      "ubd+DU1234567",
    ]);
    expect(socket.closed).toEqual([1000]);
  });

  it("leaves the exchange out of the topic when none was asked for", async () => {
    const { t, transport } = setup();
    const socket = recorder(t);
    await readDepthBook(socket, transport, AAPL);
    expect(socket.sent[1]).toBe("sbd+DU1234567+265598");
  });

  it("times out with MARKET_DATA_INCOMPLETE when no book comes, and still unsubscribes", async () => {
    const { t, transport } = setup();
    const socket = recorder(t, { drop: (text) => text.startsWith("sbd+") });
    const result = await failure(readDepthBook(socket, transport, { ...AAPL, timeoutMs: 20 }));
    expect(result.code).toBe("MARKET_DATA_INCOMPLETE");
    expect(result.details).toEqual({ channel: "websocket", reason: "timeout", timeout_ms: 20 });
    expect(socket.sent.slice(1)).toEqual(["sbd+DU1234567+265598", "ubd+DU1234567"]);
    expect(socket.closed).toEqual([1000]);
    expect(DEPTH_BOOK_TIMEOUT_MS).toBe(5_000);
  });

  it("answers BROKER_SESSION_REQUIRED when the websocket does not accept the session", async () => {
    const { t, transport } = setup();
    const socket = recorder(t, {
      rewrite: (text) => (text.startsWith("{") ? JSON.stringify({ session: "not-the-session" }) : text),
    });
    const result = await failure(readDepthBook(socket, transport, AAPL));
    expect(result.code).toBe("BROKER_SESSION_REQUIRED");
    expect(result.details).toEqual({ channel: "websocket", reason: "session_not_accepted" });
    expect(socket.sent).toHaveLength(1);
    expect(socket.closed).toEqual([1000]);
    expect(result.text).not.toContain(sessionToken(t.sim.state));
  });

  it("answers BROKER_SESSION_REQUIRED when the session is never confirmed in time", async () => {
    const { t, transport } = setup();
    const socket = recorder(t, { drop: (text) => text.startsWith("{") });
    const result = await failure(readDepthBook(socket, transport, { ...AAPL, timeoutMs: 20 }));
    expect(result.code).toBe("BROKER_SESSION_REQUIRED");
    expect(result.details).toEqual({ channel: "websocket", reason: "no_confirmation" });
  });

  it("answers BROKER_SESSION_REQUIRED when the login ends between /tickle and the upgrade", async () => {
    const { t, transport } = setup();
    const inner = recorder(t);
    const socket: CpapiWebSocket = {
      where: inner.where,
      open(handlers) {
        t.sim.control.logout();
        return inner.open(handlers);
      },
    };
    const result = await failure(readDepthBook(socket, transport, AAPL));
    expect(result.code).toBe("BROKER_SESSION_REQUIRED");
    expect(result.details).toEqual({ channel: "websocket", http_status: 401 });
  });

  it("answers BROKER_BACKEND_UNAVAILABLE when the connection is refused, reset or never opens", async () => {
    const { t, transport } = setup();
    const refusing: CpapiWebSocket = {
      where: "localhost:5055",
      open(handlers) {
        // After the /tickle: the gateway goes away between the REST call and the upgrade.
        t.sim.control.setGatewayDown(true);
        return t.sim.websocket(handlers);
      },
    };
    const refused = await failure(readDepthBook(refusing, transport, AAPL));
    t.sim.control.setGatewayDown(false);
    expect(refused).toMatchObject({
      code: "BROKER_BACKEND_UNAVAILABLE",
      details: { failure: "connection_refused", channel: "websocket", code: "ECONNREFUSED" },
    });

    const resetting = recorder(t, {
      drop: (text) => {
        if (text.startsWith("sbd+")) t.sim.control.setGatewayDown(true);
        return false;
      },
    });
    const reset = await failure(readDepthBook(resetting, transport, AAPL));
    t.sim.control.setGatewayDown(false);
    expect(reset).toMatchObject({ code: "BROKER_BACKEND_UNAVAILABLE", details: { failure: "reset" } });

    const never = silent();
    const timedOut = await failure(readDepthBook(never, transport, { ...AAPL, timeoutMs: 20 }));
    expect(timedOut).toMatchObject({
      code: "BROKER_BACKEND_UNAVAILABLE",
      details: { failure: "timeout", channel: "websocket" },
    });
    expect(never.closed).toEqual([1000]);
  });

  it("refuses ids that could change the topic before anything is sent", async () => {
    const { t, transport } = setup();
    const socket = recorder(t);
    expect(
      (await failure(readDepthBook(socket, transport, { accountId: "DU1+x", conid: "265598" }))).code,
    ).toBe("INPUT_INVALID_ARGUMENT");
    expect((await failure(readDepthBook(socket, transport, { ...AAPL, exchange: "NASDAQ+1" }))).code).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    expect((await failure(readDepthBook(socket, transport, { ...AAPL, conid: "26+5" }))).code).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    expect(socket.sent).toEqual([]);
    expect(t.sim.control.requests()).toEqual([]);
  });
});
