// Test support for the simulator: a simulator on a manual clock, a raw wire-level caller that goes
// through the same msw handlers (status, headers and body exactly as the gateway sends them), and a CPAPI
// client wired to it in-process, sharing the clock (virtual time: the client's waits move the clock).
import { getResponse } from "msw";
import { createManualClock, type ManualClock } from "../../src/core/clock.ts";
import { type CpapiClient, type CpapiClientOptions, createCpapiClient } from "../../src/cpapi/index.ts";
import { createSimulator, type Simulator, type SimulatorOptions } from "../../src/simulator/index.ts";

/** Tuesday 2026-12-01 10:00 in New York: a regular session is open. */
export const MARKET_OPEN = Date.UTC(2026, 11, 1, 15, 0, 0);
/** Saturday 2026-12-05 12:00 in New York. */
export const WEEKEND = Date.UTC(2026, 11, 5, 17, 0, 0);
export const SIM_ORIGIN = "https://localhost:5055";
export const SIM_BASE_URL = `${SIM_ORIGIN}/v1/api`;

export interface WireAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or the text when the body is not JSON. */
  readonly body: unknown;
  readonly networkError: boolean;
}

export interface TestSimulator {
  readonly sim: Simulator;
  readonly clock: ManualClock;
  raw(method: string, path: string, body?: unknown): Promise<WireAnswer>;
  client(options?: Partial<CpapiClientOptions>): CpapiClient;
  close(): Promise<void>;
}

export function testSimulator(options: SimulatorOptions & { startAt?: number } = {}): TestSimulator {
  const clock = createManualClock(options.startAt ?? MARKET_OPEN);
  const sim = createSimulator({ ...options, clock });
  const clients: CpapiClient[] = [];
  return {
    sim,
    clock,
    async raw(method, path, body) {
      const init: RequestInit = { method, headers: { accept: "application/json" } };
      if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      const response = await getResponse(sim.handlers, new Request(`${SIM_BASE_URL}${path}`, init));
      if (response === undefined) throw new Error(`no handler for ${method} ${path}`);
      if (response.type === "error")
        return { status: 0, headers: new Headers(), body: null, networkError: true };
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === "" ? null : JSON.parse(text);
      } catch {
        // plain text answer
      }
      return { status: response.status, headers: response.headers, body: parsed, networkError: false };
    },
    client(clientOptions = {}) {
      const client = createCpapiClient({
        baseUrl: SIM_BASE_URL,
        dispatcher: sim.dispatcher(),
        clock,
        // Virtual waits overlap like real ones: each ends at its own start + ms, and the clock never goes
        // back. A few turns of the event loop first let answers already on their way land.
        sleep: async (ms) => {
          const target = clock.now() + ms;
          for (let i = 0; i < 30; i += 1) await new Promise((resolve) => setImmediate(resolve));
          if (clock.now() < target) clock.set(target);
        },
        ...clientOptions,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients.splice(0)) await client.close();
    },
  };
}
