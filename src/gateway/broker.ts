// Builds the broker of a gateway from its configuration: the in-process simulator (the safe default: no
// IBKR account, nothing leaves the machine) or a real Client Portal Gateway. Either way the workflows get the
// same CPAPI client; only its dispatcher differs. The default simulator keeps its state in the profile
// (simulator.sqlite), so every CLI command and MCP server of the profile sees one broker.

import { MockAgent } from "undici";
import { cpapiClientOptions } from "../config/cpapi-options.ts";
import type { Config, ConfigPaths } from "../config/index.ts";
import type { Clock } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { type CpapiClient, createCpapiClient, type LogFn } from "../cpapi/index.ts";
import { createCpapiWebSocket } from "../cpapi/websocket.ts";
import { createSimulator, type Simulator, simulatorStatePath } from "../simulator/index.ts";
import type { Broker } from "../workflows/broker.ts";

/** The simulator answers in-process; this URL only names it (it is never dialled). */
export const IN_PROCESS_SIMULATOR_URL = "https://localhost:5055/v1/api";

export interface BrokerHandle extends Broker {
  /** The in-process simulator, when the backend is the simulator (tests drive it through its control API). */
  readonly simulator: Simulator | null;
  close(): Promise<void>;
}

export interface BrokerOptions {
  readonly config: Config;
  readonly paths: ConfigPaths;
  readonly clock?: Clock;
  /** Use this simulator instead of creating one (tests share one with their assertions). */
  readonly simulator?: Simulator;
  readonly log?: LogFn;
  /** `bench` lifts pacing on both sides, for benchmarks only. */
  readonly pacingProfile?: "cpapi" | "bench";
  readonly sleep?: (ms: number) => Promise<void>;
}

function persistedSimulator(options: BrokerOptions): Simulator {
  const statePath = simulatorStatePath(options.paths.profileDir);
  try {
    return createSimulator({
      scenario: options.config.broker.simulator.scenario,
      seed: options.config.broker.simulator.seed,
      pacing: options.pacingProfile ?? "cpapi",
      statePath,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    if ((error as Error).name !== "SharedStateUnavailable") throw error;
    throw new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
      message: "The simulated broker's state file cannot be used.",
      userAction: `Check that ${statePath} is readable and writable by this user, or start the simulator afresh with \`ibkr-agent simulator reset-state\`.`,
      cause: error,
    });
  }
}

/**
 * The broker of a relay gateway: there is none on this machine (every tool call runs on the caller's sidecar),
 * so a client whose every request fails; it exists only because background parts ask for a session state.
 */
function relayBroker(options: BrokerOptions): BrokerHandle {
  const agent = new MockAgent({ enableCallHistory: false });
  agent.disableNetConnect();
  const client = createCpapiClient({
    baseUrl: "https://relay.invalid/v1/api",
    dispatcher: agent,
    keepAliveIntervalMs: options.config.broker.keep_alive_interval_seconds * 1000,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    client,
    simulator: null,
    kind: "relay",
    loginUrl: "the Client Portal Gateway on the user's own machine (the sidecar's)",
    source: () => ({ backend: "relay", simulated: false }),
    close: async () => {
      await client.close();
      await agent.close();
    },
  };
}

export function createBroker(options: BrokerOptions): BrokerHandle {
  const { config, paths } = options;
  if ((config.broker.backend as string) === "relay") return relayBroker(options);
  if (config.broker.backend === "simulator") {
    const owned = options.simulator === undefined;
    const simulator = options.simulator ?? persistedSimulator(options);
    // The simulator's pacer belongs to this process (its shared state does not), so pacing is coordinated
    // in memory, not in a file.
    const client: CpapiClient = createCpapiClient({
      baseUrl: IN_PROCESS_SIMULATOR_URL,
      dispatcher: simulator.dispatcher(),
      pacingProfile: options.pacingProfile ?? "cpapi",
      keepAliveIntervalMs: config.broker.keep_alive_interval_seconds * 1000,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    return {
      client,
      simulator,
      kind: "simulator",
      loginUrl: "the simulator (it starts logged in; see docs/simulator.md)",
      source: () => ({ backend: "simulator", simulated: true }),
      websocket: { where: new URL(IN_PROCESS_SIMULATOR_URL).host, open: (h) => simulator.websocket(h) },
      close: async () => {
        try {
          await client.close();
        } finally {
          if (owned) simulator.close();
        }
      },
    };
  }
  const clientOptions = cpapiClientOptions(config, paths);
  const client = createCpapiClient({
    ...clientOptions,
    pacingProfile: options.pacingProfile ?? "cpapi",
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const origin = new URL(config.broker.base_url).origin;
  return {
    client,
    simulator: null,
    kind: "client_portal_gateway",
    loginUrl: `${origin}/`,
    // A "real" gateway can still be the HTTPS simulator: its answers say so, and so does every output.
    source: () => ({ backend: "client_portal_gateway", simulated: client.simulated() === true }),
    // The same options, so the websocket makes the very TLS decision the client made (resolveTls).
    websocket: createCpapiWebSocket(clientOptions),
    close: () => client.close(),
  };
}
