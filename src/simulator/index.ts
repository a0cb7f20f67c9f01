// The simulated Client Portal Gateway: the default backend (no IBKR account needed) and the backbone of the
// tests. It speaks CPAPI's real wire format - the quirks included - from one set of msw handlers, served
// in-process to undici (dispatcher()), to fetch through msw's setupServer (handlers), or as a real HTTPS
// server (serve()). With `statePath` its durable state lives in a SQLite file shared by every process that
// opens it (persistence.ts); without, it lives and dies with the object.
import type { RequestHandler } from "msw";
import type { Dispatcher } from "undici";
import type { Clock } from "../core/clock.ts";
import { createOffsetClock, isOffsetClock, isSimClock, type SimClock } from "./clock.ts";
import { controlHandlers, createControl, type SimulatorControl } from "./control.ts";
import { MswDispatcher } from "./dispatcher.ts";
import { exportDurable } from "./durable.ts";
import { DEFAULT_SIMULATOR_PORT, type SimulatorServer, startSimulatorServer } from "./https-server.ts";
import { apiHandlers } from "./msw-handlers.ts";
import { DEFAULT_PACING, type PacingSettings } from "./pacing.ts";
import { attachPersistence, type SimulatorLog } from "./persistence.ts";
import { SCENARIO_NAMES, type Scenario, scenarioByName } from "./scenarios.ts";
import type { SessionTimings } from "./session.ts";
import { createSimulatorState, type SimulatorState, type StateOptions } from "./state.ts";
import {
  createWebSocketHub,
  type SimWebSocket,
  type SimWebSocketHandlers,
  type WebSocketHub,
} from "./websocket.ts";

export { STOCKS } from "./instruments.ts";
export { SIMULATOR_HEADER } from "./msw-handlers.ts";
export { SIMULATOR_STATE_FILE, type SimulatorLog, simulatorStatePath } from "./persistence.ts";
export type { Scenario, SimulatorControl, SimulatorServer, SimWebSocket, SimWebSocketHandlers, WebSocketHub };
export { DEFAULT_SIMULATOR_PORT, SCENARIO_NAMES };

export interface SimulatorOptions {
  /** Scenario name (default "healthy"); see SCENARIO_NAMES. */
  readonly scenario?: string;
  /** Seed of the price path and everything else invented (default 1). */
  readonly seed?: number;
  /** A manual clock for virtual time; default real time from now (or from `startAt`). */
  readonly clock?: Clock;
  /** Start of simulated time when no clock is given (epoch ms). */
  readonly startAt?: number;
  /** `cpapi`: the broker's real limits (default); `bench`: no pacing at all; or individual settings. */
  readonly pacing?: "cpapi" | "bench" | Partial<PacingSettings>;
  readonly sessionTimings?: Partial<SessionTimings>;
  /** Offer the /__simulator control endpoints over HTTP (default true; loopback only anyway). */
  readonly httpControl?: boolean;
  /**
   * Keep the durable state in this SQLite file and share it with every process that opens it (the default
   * backend's `<profileDir>/simulator.sqlite`). The simulated person then stays logged in (session.ts).
   */
  readonly statePath?: string;
  /** Diagnostics of a persisted simulator (one line when it must start afresh); never account ids. */
  readonly log?: SimulatorLog;
}

export interface Simulator {
  readonly state: SimulatorState;
  readonly control: SimulatorControl;
  readonly clock: SimClock | Clock;
  /** The msw handlers: API first, then control. Pass them to msw's setupServer to serve fetch. */
  readonly handlers: RequestHandler[];
  /** An undici dispatcher that answers in-process (for createCpapiClient({ dispatcher })). */
  dispatcher(): Dispatcher;
  /** An in-process connection to the websocket (/v1/api/ws), speaking the same protocol as over HTTPS. */
  websocket(handlers: SimWebSocketHandlers): SimWebSocket;
  /** The websocket's connections and depth subscriptions; push() and heartbeat() for virtual time. */
  readonly websockets: WebSocketHub;
  /** Serves the handlers (and the websocket) over HTTPS on loopback with a fresh self-signed certificate. */
  serve(options?: { port?: number; host?: string }): Promise<SimulatorServer>;
  /** Closes the state file of a persisted simulator (nothing to do for an in-memory one). */
  close(): void;
}

function pacingOf(option: SimulatorOptions["pacing"]): PacingSettings {
  if (option === undefined || option === "cpapi") return DEFAULT_PACING;
  if (option === "bench") return { ...DEFAULT_PACING, enabled: false };
  return { ...DEFAULT_PACING, ...option };
}

export function resolveScenario(name: string | undefined): Scenario {
  const scenario = scenarioByName(name ?? "healthy");
  if (scenario === undefined) {
    throw new RangeError(`Unknown simulator scenario "${name}". Scenarios: ${SCENARIO_NAMES.join(", ")}.`);
  }
  return scenario;
}

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError("The simulator seed must be a non-negative integer.");
  const clock = options.clock ?? createOffsetClock(options.startAt);
  const stateOptions: StateOptions = {
    seed,
    clock,
    scenario: resolveScenario(options.scenario),
    pacing: pacingOf(options.pacing),
    sessionTimings: options.sessionTimings,
    keepLoggedIn: options.statePath !== undefined,
  };
  const state = createSimulatorState(stateOptions);
  let closeState = () => {};
  if (options.statePath !== undefined) {
    const startOffset = isOffsetClock(clock) ? clock.offset() : 0;
    const persistence = attachPersistence(state, {
      path: options.statePath,
      seed,
      scenario: stateOptions.scenario.name,
      // A fresh state starts at the time this simulator started with, whatever offset the old one had.
      fresh: () => {
        const freshClock = isOffsetClock(clock) ? createOffsetClock() : clock;
        if (isOffsetClock(freshClock)) freshClock.setOffset(startOffset);
        return exportDurable(createSimulatorState({ ...stateOptions, clock: freshClock }));
      },
      ...(options.log ? { log: options.log } : {}),
    });
    state.sharing = persistence;
    closeState = () => persistence.close();
  }
  const control = createControl(state);
  const handlers: RequestHandler[] = [
    ...apiHandlers(state),
    ...(options.httpControl === false ? [] : controlHandlers(control)),
  ];
  const websockets = createWebSocketHub(state);
  return {
    state,
    control,
    clock: isSimClock(clock) ? clock : clock,
    handlers,
    dispatcher: () => new MswDispatcher(() => handlers),
    websocket: (socketHandlers) => websockets.connect(socketHandlers),
    websockets,
    serve: (serveOptions = {}) =>
      startSimulatorServer({ handlers: () => handlers, websocket: websockets.server(), ...serveOptions }),
    close: () => closeState(),
  };
}
