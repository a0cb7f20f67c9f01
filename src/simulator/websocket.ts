// The simulated gateway's websocket (/v1/api/ws) in CPAPI's plain-text protocol, served two ways by one
// protocol handler: in-process (connect(): no socket, messages delivered on the microtask queue) and on the
// HTTPS server's upgrade (a `ws` server). Like the real gateway it answers the upgrade with 401 while
// nobody is logged in, then says {"message":"waiting for session"} until the client sends the /tickle
// session value as {"session":"..."}; only then do `system`, `sts` and topic commands follow.
//
// Topics: `tic` (ping), `sbd+{acct}+{conid}[+{exchange}]` (market depth: a BookTrader ladder derived from
// the simulated quote) and `ubd+{acct}` (cancel depth). Other topic commands are not simulated and are
// ignored, as the gateway ignores commands it does not know. Over HTTPS the connections also get the
// unsolicited `system` heartbeat every 10 s and a fresh depth picture every second; in-process (virtual
// time) a test calls heartbeat() and push() itself.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { type Instrument, instrumentByConid } from "./instruments.ts";
import { SIMULATOR_HEADER } from "./msw-handlers.ts";
import { intBetween, unit } from "./random.ts";
import { sessionToken, USER_NAME } from "./routes/session.ts";
import { SERVER_INFO } from "./routes/types.ts";
import type { SimulatorState } from "./state.ts";
import { grouped, price } from "./wire/format.ts";

export const WEBSOCKET_PATH = "/v1/api/ws";
/** Sized price levels per side of a simulated ladder (the tool asks for at most 20). */
export const DEPTH_LEVELS = 20;
export const HEARTBEAT_MS = 10_000;
export const DEPTH_PUSH_MS = 1_000;
const MAX_MESSAGE_BYTES = 64 * 1024;
const WAITING = JSON.stringify({ message: "waiting for session" });

/** What the in-process client is told; the same events a `ws` client adapter reports. */
export interface SimWebSocketHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(code: number): void;
  onError(error: unknown): void;
}

export interface SimWebSocket {
  send(text: string): void;
  close(code?: number): void;
}

export interface DepthSubscriptionInfo {
  readonly connection: number;
  readonly accountId: string;
  readonly conid: number;
  readonly exchange: string | null;
}

/** The websocket side of one HTTPS server: its upgrade handler and its connections. */
export interface WebSocketServerSide {
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends every connection this server accepted (the server is closing). */
  closeAll(): void;
}

export interface WebSocketHub {
  /** Opens an in-process connection (what the default simulator backend's client uses). */
  connect(handlers: SimWebSocketHandlers): SimWebSocket;
  /** A fresh server side for one HTTPS server. */
  server(): WebSocketServerSide;
  /** Sends every depth subscription its current book (the HTTPS server does this every second). */
  push(): void;
  /** Sends the unsolicited `system` heartbeat to every confirmed connection. */
  heartbeat(): void;
  /** The depth subscriptions open right now, over every connection. */
  depthSubscriptions(): readonly DepthSubscriptionInfo[];
  /** Connections open right now. */
  connections(): number;
}

interface Transport {
  send(text: string): void;
  close(code: number): void;
  /** Drops the connection without a close frame ("nothing listens"). */
  drop(): void;
}

interface Connection {
  readonly id: number;
  opened(): void;
  receive(text: string): void;
  push(): void;
  heartbeat(): void;
  subscriptions(): readonly DepthSubscriptionInfo[];
  ended(): void;
}

interface DepthSubscription {
  readonly conid: number;
  readonly exchange: string | null;
}

interface LadderRow {
  row: number;
  focus: number;
  price: string;
  bid?: string;
  ask?: string;
}

function sizeText(size: number): string {
  return size >= 1_000 ? grouped(size) : String(size);
}

/**
 * The BookTrader ladder of an instrument now: price rows from the highest ask down to the lowest bid, one
 * row per tick, sized levels as the quote's bid/ask (same prices and sizes at the top) and deterministic
 * sizes below; some ticks inside the book carry no size, as a real ladder shows. `focus` marks the row of
 * the last price.
 */
export function depthLadder(state: SimulatorState, instrument: Instrument, now: number): LadderRow[] {
  const quote = state.quote(instrument, now);
  const stock = instrument.kind === "stock" ? instrument : instrument.underlying;
  const cap = instrument.kind === "stock" && stock.type === "ETF" ? 2_500 : 30;
  const minute = Math.floor(now / 60_000);
  const side = (bestCents: number, step: 1 | -1, bestSize: number, key: string) => {
    const levels: { cents: number; size: number | null }[] = [];
    let sized = 0;
    for (let k = 0; sized < DEPTH_LEVELS; k += 1) {
      const cents = bestCents + step * k;
      if (cents <= 0) break;
      const gap = k > 0 && unit(state.seed, instrument.conid, minute, key, "gap", k) < 0.2;
      const size =
        k === 0 ? bestSize : gap ? null : intBetween(1, cap, state.seed, instrument.conid, minute, key, k);
      levels.push({ cents, size });
      if (size !== null) sized += 1;
    }
    return levels;
  };
  const bidCents = Math.round(quote.bid * 100);
  const askCents = Math.round(quote.ask * 100);
  const asks = side(askCents, 1, quote.askSize, "ask").reverse();
  const inside: { cents: number; size: null }[] = [];
  for (let cents = askCents - 1; cents > bidCents; cents -= 1) inside.push({ cents, size: null });
  const bids = side(bidCents, -1, quote.bidSize, "bid");
  const lastCents = Math.round(quote.last * 100);
  const all = [
    ...asks.map((level) => ({ ...level, side: "ask" as const })),
    ...inside.map((level) => ({ ...level, side: null })),
    ...bids.map((level) => ({ ...level, side: "bid" as const })),
  ];
  let focusIndex = 0;
  all.forEach((level, i) => {
    const best = all[focusIndex] as (typeof all)[number];
    if (Math.abs(level.cents - lastCents) < Math.abs(best.cents - lastCents)) focusIndex = i;
  });
  return all.map((level, i) => {
    const row: LadderRow = { row: i, focus: i === focusIndex ? 1 : 0, price: price(level.cents / 100) };
    if (level.size !== null && level.side !== null) row[level.side] = sizeText(level.size);
    return row;
  });
}

/** Depth needs a real-time subscription and a trading market: otherwise the gateway's ladder is empty. */
function bookRows(state: SimulatorState, conid: number, now: number): LadderRow[] {
  const instrument = instrumentByConid(conid);
  if (instrument === undefined || state.marketData !== "live") return [];
  if (state.book(instrument, now).closed) return [];
  return depthLadder(state, instrument, now);
}

function createConnection(state: SimulatorState, id: number, transport: Transport): Connection {
  let confirmedEpoch: number | null = null;
  const depth = new Map<string, DepthSubscription>();
  const send = (message: unknown) => transport.send(JSON.stringify(message));

  /** The session as the socket sees it now; false (and the socket told so) when it is gone. */
  function stillConfirmed(now: number): boolean {
    if (confirmedEpoch === null) return false;
    const snapshot = state.session.snapshot(now);
    if (snapshot.sso !== "logged_in") {
      confirmedEpoch = null;
      depth.clear();
      transport.send(WAITING);
      return false;
    }
    if (snapshot.epoch !== confirmedEpoch && !snapshot.brokerage.authenticated) depth.clear();
    return true;
  }

  function status(now: number): void {
    const { brokerage } = state.session.snapshot(now);
    send({
      topic: "sts",
      args: {
        authenticated: brokerage.authenticated,
        competing: brokerage.competing,
        message: "",
        fail: "",
        serverName: SERVER_INFO.serverName,
        serverVersion: SERVER_INFO.serverVersion,
        username: USER_NAME,
      },
    });
  }

  function sendBook(accountId: string, subscription: DepthSubscription, now: number): void {
    send({
      topic: `sbd+${accountId}+${subscription.conid}`,
      data: bookRows(state, subscription.conid, now),
    });
  }

  function command(text: string, now: number): void {
    if (text === "tic") {
      state.session.touch(now);
      send({ topic: "tic", alive: true, lastAccessed: now });
      return;
    }
    const parts = text.split("+");
    const head = parts[0];
    if (head === "sbd") {
      const accountId = parts[1] ?? "";
      const conidText = parts[2] ?? "";
      const exchange = parts[3] ?? "";
      state.session.touch(now);
      if (!state.session.isBrokerageAuthenticated()) {
        status(now);
        return;
      }
      const topic = `sbd+${accountId}+${conidText}`;
      if (!state.accounts.has(accountId)) {
        send({ topic, error: `Account ${accountId} is not available for this session` });
        return;
      }
      const conid = /^[0-9]{1,12}$/.test(conidText) ? Number(conidText) : Number.NaN;
      if (!Number.isSafeInteger(conid) || instrumentByConid(conid) === undefined) {
        send({ topic, error: "Invalid contract id" });
        return;
      }
      if (exchange !== "" && !/^[A-Z0-9._-]{1,16}$/.test(exchange)) {
        send({ topic, error: "Invalid exchange" });
        return;
      }
      // One depth subscription per account: a new sbd replaces the previous one, as ubd cancels by account.
      const subscription = { conid, exchange: exchange === "" ? null : exchange };
      depth.set(accountId, subscription);
      sendBook(accountId, subscription, now);
      return;
    }
    if (head === "ubd") {
      depth.delete(parts[1] ?? "");
    }
  }

  return {
    id,
    opened() {
      transport.send(WAITING);
    },
    receive(raw) {
      if (state.gatewayDown) {
        transport.drop();
        return;
      }
      const now = state.sync();
      const text = raw.trim();
      if (text.startsWith("{")) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return;
        }
        const offered = (body as { session?: unknown } | null)?.session;
        if (typeof offered !== "string") return;
        if (!state.session.isLoggedIn() || offered !== sessionToken(state)) {
          confirmedEpoch = null;
          transport.send(WAITING);
          return;
        }
        const snapshot = state.session.snapshot(now);
        confirmedEpoch = snapshot.epoch;
        state.session.touch(now);
        const account = state.accounts.get(state.selectedAccount);
        send({ topic: "system", success: USER_NAME, isFT: false, isPaper: account?.paper !== false });
        status(now);
        return;
      }
      if (confirmedEpoch === null) {
        transport.send(WAITING);
        return;
      }
      if (!stillConfirmed(now)) return;
      command(text, now);
    },
    push() {
      if (depth.size === 0 || state.gatewayDown) return;
      const now = state.sync();
      if (!stillConfirmed(now)) return;
      if (!state.session.isBrokerageAuthenticated()) {
        depth.clear();
        status(now);
        return;
      }
      for (const [accountId, subscription] of depth) sendBook(accountId, subscription, now);
    },
    heartbeat() {
      if (confirmedEpoch === null || state.gatewayDown) return;
      send({ topic: "system", hb: state.clock.now() });
    },
    subscriptions: () =>
      [...depth].map(([accountId, s]) => ({
        connection: id,
        accountId,
        conid: s.conid,
        exchange: s.exchange,
      })),
    ended() {
      depth.clear();
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n${SIMULATOR_HEADER}: 1\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

export function createWebSocketHub(state: SimulatorState): WebSocketHub {
  const live = new Set<Connection>();
  let nextId = 1;

  function connect(handlers: SimWebSocketHandlers): SimWebSocket {
    let open = false;
    let ended = false;
    let connection: Connection | null = null;
    const deliver = (fn: () => void) => queueMicrotask(fn);
    const end = (code: number, error?: unknown) => {
      if (ended) return;
      ended = true;
      open = false;
      if (connection !== null) {
        connection.ended();
        live.delete(connection);
      }
      deliver(() => {
        if (error !== undefined) handlers.onError(error);
        handlers.onClose(code);
      });
    };
    const transport: Transport = {
      send: (text) => {
        if (open) deliver(() => handlers.onMessage(text));
      },
      close: (code) => end(code),
      drop: () => end(1006, Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })),
    };
    deliver(() => {
      if (ended) return;
      if (state.gatewayDown) {
        end(1006, Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
        return;
      }
      state.sync();
      if (!state.session.isLoggedIn()) {
        // The same refusal a `ws` client reports for an upgrade answered 401.
        end(1006, { code: "WS_UPGRADE_REFUSED", status: 401 });
        return;
      }
      connection = createConnection(state, nextId++, transport);
      live.add(connection);
      open = true;
      handlers.onOpen();
      connection.opened();
    });
    return {
      send(text) {
        if (!open || ended) return;
        deliver(() => {
          if (open && connection !== null) connection.receive(text);
        });
      },
      close(code = 1000) {
        // After what this side already sent, as a close frame follows the messages before it.
        deliver(() => end(code));
      },
    };
  }

  function server(): WebSocketServerSide {
    // `ws` is loaded with the first upgrade, so a simulator that never serves a websocket never loads it.
    let wss: Promise<WebSocketServer> | null = null;
    const serverOf = () => {
      wss ??= import("ws").then(
        ({ WebSocketServer: Server }) =>
          new Server({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false }),
      );
      return wss;
    };
    let closing = false;
    const sockets = new Map<WebSocket, Connection>();
    let timers: NodeJS.Timeout[] = [];
    const startTimers = () => {
      if (timers.length > 0) return;
      const every = (ms: number, fn: () => void) => {
        const timer = setInterval(fn, ms);
        timer.unref();
        return timer;
      };
      timers = [
        every(HEARTBEAT_MS, () => {
          for (const c of sockets.values()) c.heartbeat();
        }),
        every(DEPTH_PUSH_MS, () => {
          for (const c of sockets.values()) c.push();
        }),
      ];
    };
    const stopTimers = () => {
      for (const timer of timers) clearInterval(timer);
      timers = [];
    };
    return {
      upgrade(request, socket, head) {
        const path = new URL(request.url ?? "/", "https://localhost").pathname;
        if (path !== WEBSOCKET_PATH) {
          refuseUpgrade(socket, 404, "Not Found", "Not Found");
          return;
        }
        if (state.gatewayDown) {
          socket.destroy();
          return;
        }
        state.sync();
        if (!state.session.isLoggedIn()) {
          refuseUpgrade(socket, 401, "Unauthorized", "Access Denied");
          return;
        }
        serverOf().then(
          (upgrader) => {
            if (closing) {
              socket.destroy();
              return;
            }
            upgrader.handleUpgrade(request, socket, head, (ws) => accept(ws));
          },
          () => socket.destroy(),
        );
      },
      closeAll() {
        closing = true;
        stopTimers();
        for (const ws of sockets.keys()) ws.terminate();
        void wss?.then((upgrader) => upgrader.close());
      },
    };

    function accept(ws: WebSocket): void {
      const connection = createConnection(state, nextId++, {
        send: (text) => {
          if (ws.readyState === ws.OPEN) ws.send(text);
        },
        close: (code) => ws.close(code),
        drop: () => ws.terminate(),
      });
      sockets.set(ws, connection);
      live.add(connection);
      startTimers();
      ws.on("message", (data, isBinary) => {
        if (!isBinary) connection.receive(data.toString());
      });
      ws.on("error", () => ws.terminate());
      ws.on("close", () => {
        connection.ended();
        sockets.delete(ws);
        live.delete(connection);
        if (sockets.size === 0) stopTimers();
      });
      connection.opened();
    }
  }

  return {
    connect,
    server,
    push: () => {
      for (const c of live) c.push();
    },
    heartbeat: () => {
      for (const c of live) c.heartbeat();
    },
    depthSubscriptions: () => [...live].flatMap((c) => c.subscriptions()),
    connections: () => live.size,
  };
}
