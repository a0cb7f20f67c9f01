// The control API of the simulator, for tests and demos: move time, move a price, fill an order, log in or
// out, take the session away, switch market data, drop the whole gateway, queue questions, lose or garble
// one answer, stall a conid's snapshot stream. In-process it is a plain object; the HTTPS server also
// offers it under /__simulator/ (loopback only). On a persisted simulator every change goes through the
// shared state's transaction, so all processes of the profile see it; the penalty box and the request log
// belong to one instance (see state.ts).
import { type HttpHandler, HttpResponse, http } from "msw";
import { CPAPI_OPERATIONS } from "../../generated/cpapi/operations.gen.ts";
import { isSimClock } from "./clock.ts";
import { garbledAnswer } from "./garble.ts";
import { instrumentByConid, STOCKS } from "./instruments.ts";
import type { MarketDataMode } from "./scenarios.ts";
import type { RequestLogEntry, SimulatorState } from "./state.ts";

export interface SimulatorControl {
  /** Moves simulated time forward (needs a manual or offset clock). */
  advance(ms: number): void;
  now(): number;
  /** Sets a stock's price now (by symbol or conid); the path continues from there. */
  setPrice(stock: string | number, price: number): void;
  /** Fills a working order now, fully or partly, at a price (default: the current price). */
  fill(orderId: number, options?: { quantity?: number; price?: number }): void;
  /** A person logs in in the browser: fresh SSO and brokerage session. */
  login(): void;
  logout(): void;
  /** Another login takes the brokerage session (competing). */
  compete(): void;
  /** The brokerage session drops while the SSO session stays (e.g. the nightly reset). */
  dropBrokerage(): void;
  setMarketData(mode: MarketDataMode): void;
  /** Connections refused (in-process) or reset (HTTPS) while true. */
  setGatewayDown(down: boolean): void;
  /** The next order is asked these questions, one round each ("p12" asks the prompt). */
  queueQuestions(ids: readonly string[]): void;
  /**
   * The next request to this operation (a CPAPI operation id such as "placeOrders") is handled in full -
   * an order really is placed - but its answer never reaches the caller: the in-process dispatcher fails it
   * as a closed socket (UND_ERR_SOCKET), the HTTPS server destroys the connection. One-shot.
   */
  loseNextResponse(operationId: string): void;
  /**
   * The next answer to this operation that the gateway would send with HTTP 200 is replaced by well-formed
   * JSON that breaks the operation's contract shape (see garble.ts), still with 200. The request is handled
   * in full - an order really is placed - only its answer cannot be read. A refusal the gateway sends first
   * (pacing, no session, a pre-flight) goes out as it is and the garble waits for the next. One-shot.
   */
  garbleNextResponse(operationId: string): void;
  /**
   * While stalled, the snapshot stream of this conid never warms up: every /iserver/marketdata/snapshot row
   * for it is only {conid, conidEx}, as for the first request of a new stream, however often the client
   * asks. Released (false), the next ask delivers values again. Depth on the websocket is not affected.
   */
  setSnapshotStalled(conid: number, stalled: boolean): void;
  /** Puts the caller in the penalty box (this instance's pacer). */
  penalise(ms?: number, source?: string): void;
  /** Requests seen, newest last. */
  requests(): readonly RequestLogEntry[];
  /** Count of requests to an operation id. */
  count(operationId: string): number;
  clearRequests(): void;
  summary(): Record<string, unknown>;
}

export function createControl(state: SimulatorState): SimulatorControl {
  /** Runs a change as one transaction of the shared state (or directly, in memory). */
  const change = <T>(fn: () => T): T => (state.sharing === null ? fn() : state.sharing.write(fn));
  const control: SimulatorControl = {
    advance(ms) {
      if (!isSimClock(state.clock)) throw new Error("This simulator's clock cannot be moved.");
      if (!(ms >= 0)) throw new RangeError("advance takes a non-negative number of milliseconds");
      const clock = state.clock;
      change(() => {
        clock.advance(ms);
        state.advance(clock.now());
      });
    },
    now: () => {
      state.sharing?.refresh();
      return state.clock.now();
    },
    setPrice(stock, price) {
      const found =
        typeof stock === "number"
          ? instrumentByConid(stock)
          : STOCKS.find((s) => s.symbol === stock.toUpperCase());
      if (found === undefined || found.kind !== "stock")
        throw new RangeError(`no simulated stock ${String(stock)}`);
      if (!(price > 0)) throw new RangeError("price must be positive");
      change(() => {
        state.prices.setPrice(found, state.clock.now(), price);
        state.advance(state.clock.now());
      });
    },
    fill(orderId, options = {}) {
      change(() => {
        const order = state.orders.get(orderId);
        if (order === undefined) throw new RangeError(`no simulated order ${orderId}`);
        state.orders.forceFill(order, state.clock.now(), options.quantity, options.price);
      });
    },
    login: () => change(() => state.session.login(state.clock.now())),
    logout: () => change(() => state.session.logout("logout")),
    compete: () => change(() => state.session.compete()),
    dropBrokerage: () => change(() => state.session.dropBrokerage()),
    setMarketData(mode) {
      change(() => {
        state.marketData = mode;
      });
    },
    setGatewayDown(down) {
      change(() => {
        state.gatewayDown = down;
      });
    },
    queueQuestions(ids) {
      change(() => state.queuedQuestions.push([...ids]));
    },
    loseNextResponse(operationId) {
      if (!Object.hasOwn(CPAPI_OPERATIONS, operationId))
        throw new RangeError(`no CPAPI operation ${operationId}`);
      change(() => state.lostResponses.push(operationId));
    },
    garbleNextResponse(operationId) {
      if (!Object.hasOwn(CPAPI_OPERATIONS, operationId))
        throw new RangeError(`no CPAPI operation ${operationId}`);
      const operation = CPAPI_OPERATIONS[operationId as keyof typeof CPAPI_OPERATIONS];
      if (garbledAnswer(operation) === undefined)
        throw new RangeError(`the contract of ${operationId} admits any answer; nothing can garble it`);
      change(() => state.garbledResponses.push(operationId));
    },
    setSnapshotStalled(conid, stalled) {
      if (instrumentByConid(conid) === undefined) throw new RangeError(`no simulated instrument ${conid}`);
      change(() => {
        if (stalled) state.stalledSnapshots.add(conid);
        else state.stalledSnapshots.delete(conid);
      });
    },
    penalise(ms, source = "*") {
      state.pacer.penalise(source, state.clock.now(), ms);
    },
    requests: () => state.log,
    count: (operationId) => state.log.filter((entry) => entry.operationId === operationId).length,
    clearRequests: () => state.resetLog(),
    summary() {
      state.sharing?.refresh();
      const now = state.clock.now();
      const session = state.session.snapshot(now);
      return {
        now: new Date(now).toISOString(),
        scenario: state.scenario.name,
        seed: state.seed,
        session: {
          sso: session.sso,
          ...session.brokerage,
          epoch: session.epoch,
          sso_expires_in_ms: session.ssoExpiresInMs,
        },
        market_data: state.marketData,
        gateway_down: state.gatewayDown,
        lost_responses: [...state.lostResponses],
        garbled_responses: [...state.garbledResponses],
        stalled_snapshots: [...state.stalledSnapshots],
        accounts: [...state.accounts.keys()],
        orders: state.orders.all().map((o) => ({
          order_id: o.orderId,
          status: o.status,
          filled: o.filled,
          quantity: o.ticket.quantity,
        })),
        requests: state.log.length,
      };
    },
  };
  return control;
}

export const CONTROL_PREFIX = "/__simulator";

type ControlBody = Record<string, unknown>;

/** HTTP form of the control API (POST /__simulator/<action>, GET /__simulator/state and /requests). */
export function controlHandlers(control: SimulatorControl): HttpHandler[] {
  const action = (name: string, run: (body: ControlBody) => void) =>
    http.post(`*${CONTROL_PREFIX}/${name}`, async ({ request }) => {
      let body: ControlBody = {};
      try {
        const text = await request.text();
        body = text === "" ? {} : (JSON.parse(text) as ControlBody);
      } catch {
        return HttpResponse.json({ error: "body must be JSON" }, { status: 400 });
      }
      try {
        run(body);
      } catch (error) {
        return HttpResponse.json({ error: (error as Error).message }, { status: 400 });
      }
      return HttpResponse.json(control.summary());
    });
  const num = (body: ControlBody, key: string) => {
    const value = body[key];
    if (typeof value !== "number") throw new RangeError(`${key} must be a number`);
    return value;
  };
  return [
    http.get(`*${CONTROL_PREFIX}/state`, () => HttpResponse.json(control.summary())),
    http.get(`*${CONTROL_PREFIX}/requests`, () => HttpResponse.json(control.requests())),
    action("advance", (b) => control.advance(num(b, "ms"))),
    action("price", (b) =>
      control.setPrice(typeof b.conid === "number" ? b.conid : String(b.symbol ?? ""), num(b, "price")),
    ),
    action("fill", (b) =>
      control.fill(num(b, "order_id"), {
        quantity: typeof b.quantity === "number" ? b.quantity : undefined,
        price: typeof b.price === "number" ? b.price : undefined,
      }),
    ),
    action("login", () => control.login()),
    action("logout", () => control.logout()),
    action("compete", () => control.compete()),
    action("drop-brokerage", () => control.dropBrokerage()),
    action("market-data", (b) => {
      const mode = b.mode;
      if (mode !== "live" && mode !== "delayed" && mode !== "frozen" && mode !== "none")
        throw new RangeError("mode must be live, delayed, frozen or none");
      control.setMarketData(mode);
    }),
    action("gateway-down", (b) => control.setGatewayDown(b.down === true)),
    action("questions", (b) => {
      if (!Array.isArray(b.ids) || !b.ids.every((id) => typeof id === "string"))
        throw new RangeError("ids must be a list of question ids");
      control.queueQuestions(b.ids as string[]);
    }),
    action("lose-response", (b) => {
      if (typeof b.operation_id !== "string")
        throw new RangeError("operation_id must be a CPAPI operation id");
      control.loseNextResponse(b.operation_id);
    }),
    action("garble-response", (b) => {
      if (typeof b.operation_id !== "string")
        throw new RangeError("operation_id must be a CPAPI operation id");
      control.garbleNextResponse(b.operation_id);
    }),
    action("snapshot-stalled", (b) => control.setSnapshotStalled(num(b, "conid"), b.stalled === true)),
    action("penalty", (b) =>
      control.penalise(
        typeof b.ms === "number" ? b.ms : undefined,
        typeof b.source === "string" ? b.source : undefined,
      ),
    ),
    action("clear-requests", () => control.clearRequests()),
  ];
}
