// The composition root: one Gateway per process (or per SDK instance) wires configuration, the audit store,
// the broker, the workflows and the dispatcher together. Front doors build a CallContext and call
// `dispatch`; they never reach past this object.
import { userInfo } from "node:os";
import type { ScopeName } from "../../generated/scopes.gen.ts";
import type { ToolName } from "../../generated/tools/registry.gen.ts";
// Specific modules, not the config barrel: the barrel also loads the TypeBox schema (about 100 ms), which
// only a config file or the config commands need.
import { type LoadConfigOptions, type LoadedConfig, loadConfigAsync } from "../config/load-core.ts";
import type { CallContext, FrontDoor, OperationHandler, OperationHandlers } from "../core/call-context.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { uuidv7 } from "../core/ids.ts";
import { createLogger, type Logger } from "../core/logger.ts";
import { PACKAGE_VERSION } from "../core/version.ts";
import type { RelayOverrides } from "../sidecar/relay-backend.ts";
import type { RelayHub } from "../sidecar/relay-hub.ts";
import type { Simulator } from "../simulator/index.ts";
import type { Store } from "../store/index.ts";
import {
  createAccountDirectory,
  createWorkflows,
  type OrderWriters,
  type WorkflowProcedures,
} from "../workflows/index.ts";
import { openProfileStore } from "../workflows/profile-store.ts";
import { type BrokerHandle, createBroker } from "./broker.ts";
import { createDispatcher, type Dispatcher, type DispatchOutcome } from "./dispatch.ts";
import { scanSecrets } from "./secret-scan.ts";
import { createToolCallAuditor } from "./tool-call-auditor.ts";

export interface GatewayOptions extends LoadConfigOptions {
  /** An already loaded configuration (wins over file/env/home). */
  readonly loaded?: LoadedConfig;
  /** The front door this gateway serves; every call's context names it. */
  readonly frontDoor: FrontDoor;
  /** Who acts; default local:<OS user>. */
  readonly principal?: string;
  readonly clock?: Clock;
  /** Tests: a simulator shared with their assertions (backend simulator only). */
  readonly simulator?: Simulator;
  readonly pacingProfile?: "cpapi" | "bench";
  readonly sleep?: (ms: number) => Promise<void>;
  /** Diagnostics; default a logger on stderr at the configured level and format. */
  readonly logger?: Logger;
  /** Order writers that replace the CPAPI writer (an embedding application's own route to the broker). */
  readonly writers?: OrderWriters;
  /** broker.backend relay: parts and limits of the relay hub (default: this profile's pairing records). */
  readonly relay?: RelayOverrides;
}

export interface Gateway extends AsyncDisposable {
  readonly loaded: LoadedConfig;
  readonly store: Store;
  readonly broker: BrokerHandle;
  readonly dispatcher: Dispatcher;
  /** The operator procedures that are not tools (approvals, kill switch release, arming, reconciliation). */
  readonly procedures: WorkflowProcedures;
  /**
   * broker.backend relay: the hub that routes every tool call to the caller's paired sidecar (the HTTP server
   * mounts its WebSocket endpoint); null for every other backend.
   */
  readonly relay: RelayHub | null;
  /** Scopes the local configuration grants (CLI, SDK, stdio MCP). */
  readonly localScopes: ReadonlySet<ScopeName>;
  /** Id of this front-door session (ses_...), on every audit event of its calls. */
  readonly sessionId: string;
  readonly principal: string;
  readonly logger: Logger;
  /** A context for one call through this gateway's front door. */
  context(overrides?: Partial<Omit<CallContext, "frontDoor">>): CallContext;
  /** Validates, gates, runs and audits one tool call. */
  dispatch(tool: string, args: unknown, context?: CallContext): Promise<DispatchOutcome>;
  /** Tools the local scopes allow. */
  tools(): ToolName[];
  close(): Promise<void>;
}

/** local:<OS user>, restricted to characters that are safe in logs and audit rows. */
export function localPrincipal(): string {
  let name = "user";
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return `local:${name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64) || "user"}`;
}

/** Tools this configuration offers at all: an agent never sees ibkr_approvals_create when a human must approve. */
function offeredTools(config: LoadedConfig["config"]): (tool: ToolName) => boolean {
  return (tool) => !(tool === "ibkr_approvals_create" && config.approvals.require_human);
}

export function requestId(clock: Clock = systemClock): string {
  return `req_${uuidv7(clock)}`;
}

function isRelayBackend(config: LoadedConfig["config"]): boolean {
  return (config.broker.backend as string) === "relay";
}

async function relayHub(
  options: GatewayOptions,
  loaded: LoadedConfig,
  store: Store,
  clock: Clock,
  logger: Logger,
): Promise<RelayHub> {
  const { createRelayBackend } = await import("../sidecar/relay-backend.ts");
  return createRelayBackend({
    loaded,
    store,
    clock,
    logger,
    ...(options.relay !== undefined ? { overrides: options.relay } : {}),
  });
}

function forwardEverything(operations: OperationHandlers, relay: RelayHub): OperationHandlers {
  const forward: OperationHandler = (args, context) => relay.forward(args, context);
  return Object.fromEntries(Object.keys(operations).map((name) => [name, forward])) as OperationHandlers;
}

export async function composeGateway(options: GatewayOptions): Promise<Gateway> {
  const clock = options.clock ?? systemClock;
  const loaded = options.loaded ?? (await loadConfigAsync(options));
  const { config, paths } = loaded;
  const logger =
    options.logger ??
    createLogger({ level: config.logging.level, format: config.logging.format === "json" ? "json" : "text" });
  const store = openProfileStore(loaded, clock);
  let broker: BrokerHandle;
  try {
    broker = createBroker({
      config,
      paths,
      clock: options.clock,
      simulator: options.simulator,
      pacingProfile: options.pacingProfile ?? config.broker.pacing_profile,
      sleep: options.sleep,
      log: (level, message, fields) => logger[level](message, fields),
    });
  } catch (error) {
    store.close();
    throw error;
  }
  const workflows = createWorkflows({
    broker,
    config,
    clock,
    store,
    accounts: createAccountDirectory(clock),
    startedAt: clock.now(),
    version: PACKAGE_VERSION,
    ...(options.writers !== undefined ? { writers: options.writers } : {}),
  });
  const { procedures } = workflows;
  let relay: RelayHub | null = null;
  try {
    relay = isRelayBackend(config) ? await relayHub(options, loaded, store, clock, logger) : null;
  } catch (error) {
    await broker.close();
    store.close();
    throw error;
  }
  // The one place the relay decision is made: on a relay gateway every operation is "run it on the caller's
  // sidecar". Validation, the scope gate, the output check, the secret scan and the tool_call audit are the
  // dispatcher's and stay exactly as for any other backend.
  const operations = relay === null ? workflows.operations : forwardEverything(workflows.operations, relay);
  const raw = createDispatcher({
    operations,
    auditor: createToolCallAuditor(store),
    scanSecrets,
    clock,
    offered: offeredTools(config),
  });
  // Writes a crashed process left pending are settled before this gateway runs its first call (design §10:
  // at start-up every pending row is resolved by its cOID). Cheap when there are none: one query.
  let recovering: Promise<void> | null =
    procedures.recovery.abandoned().length === 0
      ? null
      : procedures.recovery
          .recoverAll({ kind: "system", context: { ...store.systemContext(), principal: "system:recovery" } })
          .then(
            (reports) => {
              for (const report of reports) {
                logger.info("order write settled at start-up", {
                  operation: report.operation,
                  outcome: report.outcome,
                });
              }
            },
            (error) =>
              logger.warn("start-up recovery failed; it runs again on the next write or reconcile", {
                code: (error as { code?: string }).code ?? "INTERNAL_ERROR",
              }),
          );
  // Every front door (the MCP servers hold the dispatcher itself) waits for start-up recovery first.
  const dispatcher: Dispatcher = {
    ...raw,
    async dispatch(tool, args, context) {
      if (recovering !== null) {
        await recovering;
        recovering = null;
      }
      return raw.dispatch(tool, args, context);
    },
  };
  const localScopes = new Set<ScopeName>(config.auth.enabled_scopes as ScopeName[]);
  const sessionId = `ses_${uuidv7(clock)}`;
  const principal = options.principal ?? localPrincipal();
  let closed = false;

  const gateway: Gateway = {
    loaded,
    store,
    broker,
    dispatcher,
    procedures,
    relay,
    localScopes,
    sessionId,
    principal,
    logger,
    context: (overrides = {}) => ({
      frontDoor: options.frontDoor,
      principal,
      scopes: localScopes,
      requestId: requestId(clock),
      sessionId,
      ...overrides,
    }),
    async dispatch(tool, args, context) {
      const call = context ?? gateway.context();
      const outcome = await dispatcher.dispatch(tool, args, call);
      // One diagnostic line per call, with the request id that also names its audit event; no arguments.
      logger.debug("tool call", {
        request_id: call.requestId,
        tool: tool.slice(0, 64),
        outcome: outcome.ok ? "ok" : outcome.error.code,
      });
      return outcome;
    },
    tools: () => dispatcher.toolsFor(localScopes),
    async close() {
      if (closed) return;
      closed = true;
      if (recovering !== null) await recovering;
      try {
        await relay?.close();
        await broker.close();
      } finally {
        store.close();
      }
    },
    [Symbol.asyncDispose]: () => gateway.close(),
  };
  return gateway;
}
