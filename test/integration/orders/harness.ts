// Shared set-up of the order workflow tests: an in-process gateway on the simulator with a manual clock, a
// config written as a real YAML file (optionally patched after loading, to prove a gate holds even when a
// config rule was bypassed), injected writers, and the checks every scenario ends with - the audit chain
// verifies and no raw account id is anywhere in the SQLite store (database and WAL bytes).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { TOOLS, type ToolName } from "../../../generated/tools/registry.gen.ts";
import type { Config } from "../../../src/config/index.ts";
import { loadConfigAsync } from "../../../src/config/load-core.ts";
import { hashOperatorPin } from "../../../src/config/pin.ts";
import type { CallContext } from "../../../src/core/call-context.ts";
import { createManualClock, type ManualClock } from "../../../src/core/clock.ts";
import { composeGateway, type Gateway } from "../../../src/gateway/index.ts";
import { createSimulator, type Simulator } from "../../../src/simulator/index.ts";
import type { AuditEventRecord } from "../../../src/store/index.ts";
import type { OrderWriters } from "../../../src/workflows/index.ts";
import { CONFIG_HEADER, TEST_SECRET, TEST_SECRET_ENV, tempHome } from "../../support/gateway.ts";
import { LIMIT_BUY, PAPER_ACCOUNT } from "../../support/orders.ts";
import { MARKET_OPEN } from "../../support/simulator.ts";

export { LIMIT_BUY, PAPER_ACCOUNT };
export const LIVE_ACCOUNT = "U7654321";
export const SECOND_PAPER = "DU2345678";
/** The operator PIN of the tests; hashed with a low scrypt cost so each check is fast. */
export const PIN = "246810";
export const PIN_HASH = hashOperatorPin(PIN, { ln: 14 });

const READ_SCOPES = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:portfolio:read",
  "ibkr:positions:read",
  "ibkr:marketdata:read",
  "ibkr:orders:read",
  "ibkr:risk:read",
  "ibkr:audit:read",
];
export const PAPER_SCOPES = [
  ...READ_SCOPES,
  "ibkr:orders:preview",
  "ibkr:approvals:create",
  "ibkr:orders:paper:submit",
  "ibkr:orders:paper:cancel",
  "ibkr:orders:paper:modify",
  "ibkr:safety:engage",
];
export const LIVE_SCOPES = [
  ...PAPER_SCOPES,
  "ibkr:orders:live:submit",
  "ibkr:orders:live:cancel",
  "ibkr:orders:live:modify",
];

export interface PaperOptions {
  readonly scopes?: readonly string[];
  readonly accounts?: readonly string[];
  /** Extra YAML lines under order_preview. */
  readonly preview?: string;
  /** Extra YAML appended at the top level. */
  readonly extra?: string;
}

/** A paper configuration: previews, approvals and paper orders on the simulator's paper account. */
export function paperYaml(options: PaperOptions = {}): string {
  const accounts = options.accounts ?? [PAPER_ACCOUNT];
  return `${CONFIG_HEADER}auth:
  enabled_scopes: [${(options.scopes ?? PAPER_SCOPES).join(", ")}]
safety:
  paper_trading_enabled: true
order_preview:
  enabled: true
${options.preview ?? ""}paper_trading:
  enabled: true
  allowed_accounts: [${accounts.join(", ")}]
${options.extra ?? ""}`;
}

export interface LiveOptions {
  readonly scopes?: readonly string[];
  /** YAML lines of the policy (each starting with four spaces), replacing the default limits. */
  readonly policy?: string;
  readonly writer?: "broker" | "local_candidate" | "refusing";
  readonly accounts?: readonly string[];
  readonly extra?: string;
}

/** A live limit policy's YAML lines: the test defaults with some keys replaced. */
export function policy(overrides: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    max_order_quantity: '"100"',
    max_order_notional: '"50000"',
    price_collar_bps: "500",
    max_quote_age_seconds: "30",
    allowed_symbols: "[AAPL, MSFT]",
    ...overrides,
  };
  return Object.entries(values)
    .map(([key, value]) => `    ${key}: ${value}\n`)
    .join("");
}

/** A live configuration on the live-account scenario's account: every live key set, the checklist done. */
export function liveYaml(options: LiveOptions = {}): string {
  return `${CONFIG_HEADER}  retention_days: 2555
auth:
  enabled_scopes: [${(options.scopes ?? LIVE_SCOPES).join(", ")}]
safety:
  live_trading_enabled: true
order_preview:
  enabled: true
  account_modes: [paper, live]
operator:
  pin_hash: "${PIN_HASH}"
live_trading:
  enabled: true
  allowed_accounts: [${(options.accounts ?? [LIVE_ACCOUNT]).join(", ")}]
  risk_policy_id: small
  paper_to_live_checklist_acknowledged: true
  writer: ${options.writer ?? "broker"}
  policies:
  - id: small
${options.policy ?? policy()}${options.extra ?? ""}`;
}

export interface OrderGatewayOptions {
  readonly config: string;
  readonly scenario?: string;
  /** An existing home (a restart on the same $IBKR_AGENT_HOME); default a fresh one. */
  readonly home?: string;
  /** An existing simulator (a second gateway on the same broker). */
  readonly sim?: Simulator;
  readonly clock?: ManualClock;
  /** Changes the loaded (validated) configuration, for gates that must hold even past the config rules. */
  readonly patch?: (config: Config) => void;
  readonly writers?: OrderWriters;
  /**
   * The simulator will serve several gateways (other processes, in real use). Each process has its own
   * in-process simulator and pacer there, so the shared one must not count their requests together.
   */
  readonly sharedBroker?: boolean;
}

export interface OrderGateway {
  readonly gateway: Gateway;
  readonly sim: Simulator;
  readonly clock: ManualClock;
  readonly home: string;
}

const open: Gateway[] = [];

/** Closes every gateway the tests of a file opened (call from afterEach). */
export async function closeGateways(): Promise<void> {
  for (const gateway of open.splice(0)) await gateway.close();
}

export async function orderGateway(options: OrderGatewayOptions): Promise<OrderGateway> {
  const home = options.home ?? tempHome();
  const env: NodeJS.ProcessEnv = { ...process.env, IBKR_AGENT_HOME: home, [TEST_SECRET_ENV]: TEST_SECRET };
  delete env.IBKR_AGENT_CONFIG;
  const file = join(home, "config.yaml");
  writeFileSync(file, options.config);
  const clock = options.clock ?? createManualClock(MARKET_OPEN);
  const sim =
    options.sim ??
    createSimulator({
      clock,
      scenario: options.scenario ?? "healthy",
      seed: 1,
      ...(options.sharedBroker === true ? { pacing: "bench" as const } : {}),
    });
  const loaded = await loadConfigAsync({ env, file });
  let config = loaded.config;
  if (options.patch !== undefined) {
    config = structuredClone(loaded.config) as Config;
    options.patch(config);
  }
  const gateway = await composeGateway({
    frontDoor: "sdk",
    env,
    loaded: { ...loaded, config },
    clock,
    simulator: sim,
    ...(options.writers !== undefined ? { writers: options.writers } : {}),
    // Virtual waits: pacing and pre-flight re-asks move the shared clock instead of sleeping.
    sleep: async (ms) => {
      const target = clock.now() + ms;
      for (let i = 0; i < 30; i += 1) await new Promise((resolve) => setImmediate(resolve));
      if (clock.now() < target) clock.set(target);
    },
  });
  open.push(gateway);
  return { gateway, sim, clock, home };
}

export type Outcome =
  | { readonly ok: true; readonly result: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly details: Record<string, unknown>;
    };

/** One tool call through gateway.dispatch (the path every front door takes), flattened for assertions. */
export async function call(
  gateway: Gateway,
  tool: string,
  args: Record<string, unknown>,
  context?: CallContext,
): Promise<Outcome> {
  const outcome = await gateway.dispatch(tool, args, context);
  if (outcome.ok) return { ok: true, result: outcome.result as Record<string, unknown> };
  // Every code a tool answers with is one its contract declares (agents and docs rely on the list).
  expect(TOOLS[tool as ToolName].errors, `${tool} answered ${outcome.error.code}`).toContain(
    outcome.error.code,
  );
  return {
    ok: false,
    code: outcome.error.code,
    message: outcome.error.message,
    details: (outcome.error.details ?? {}) as Record<string, unknown>,
  };
}

export async function ok(
  gateway: Gateway,
  tool: string,
  args: Record<string, unknown>,
  context?: CallContext,
): Promise<Record<string, unknown>> {
  const outcome = await call(gateway, tool, args, context);
  if (!outcome.ok) throw new Error(`${tool} failed: ${outcome.code} ${outcome.message}`);
  return outcome.result;
}

export async function refused(
  gateway: Gateway,
  tool: string,
  args: Record<string, unknown>,
  context?: CallContext,
): Promise<Extract<Outcome, { ok: false }>> {
  const outcome = await call(gateway, tool, args, context);
  if (outcome.ok) throw new Error(`${tool} unexpectedly succeeded: ${JSON.stringify(outcome.result)}`);
  return outcome;
}

/** Preview and approve one order; returns both results. */
export async function previewAndApprove(
  gateway: Gateway,
  order: Record<string, unknown>,
  options: { tool?: string; approval?: Record<string, unknown> } = {},
) {
  const preview = await ok(gateway, options.tool ?? "ibkr_order_preview", order);
  const approval = await ok(gateway, "ibkr_approvals_create", {
    account_id: order.account_id,
    preview_id: preview.preview_id,
    ...options.approval,
  });
  return { preview, approval };
}

/** The buy limit used across the tests: 10 AAPL a little under the simulator's market. */
export function limitBuy(price: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...LIMIT_BUY, limit_price: price, ...extra };
}

/** Workflow events (every event but tool_call), oldest first. */
function workflowEvents(gateway: Gateway): AuditEventRecord[] {
  return [...gateway.store.exportEvents()].filter((event) => event.event_type !== "tool_call");
}

export function eventTypes(gateway: Gateway, since = 0): string[] {
  return workflowEvents(gateway)
    .filter((event) => event.sequence > since)
    .map((event) => event.event_type);
}

/** Sequence of the newest event, to look only at what a step appended. */
export function lastSequence(gateway: Gateway): number {
  const tail = gateway.store.tailVerified(1).events;
  return tail.at(-1)?.sequence ?? 0;
}

export function eventsOf(gateway: Gateway, type: string): AuditEventRecord[] {
  return workflowEvents(gateway).filter((event) => event.event_type === type);
}

const RAW_ACCOUNT_IDS = [PAPER_ACCOUNT, SECOND_PAPER, LIVE_ACCOUNT];

/**
 * Every scenario ends here: the chain verifies, and no raw account id is in the store - neither in an
 * exported event nor anywhere in the bytes of the SQLite database and its WAL.
 */
export function expectSafeStore(gateway: Gateway): void {
  expect(gateway.store.verify().chain_valid).toBe(true);
  const events = JSON.stringify([...gateway.store.exportEvents()]);
  for (const id of RAW_ACCOUNT_IDS) expect(events).not.toContain(id);
  const path = gateway.loaded.paths.storePath;
  for (const file of [path, `${path}-wal`]) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file).toString("latin1");
    for (const id of RAW_ACCOUNT_IDS) expect(bytes.includes(id), `${id} in ${file}`).toBe(false);
  }
}

/** A context of an operator at an interactive terminal (the CLI sets interactive only for a TTY). */
export function operatorContext(gateway: Gateway, interactive = true): CallContext {
  return { ...gateway.context(), frontDoor: "cli", interactive };
}

/** Arguments of a paper submit of an approval with an idempotency key (the paper account by default). */
export function submitArgs(approvalId: unknown, key: string, account = PAPER_ACCOUNT) {
  return { account_id: account, approval_id: approvalId, idempotency_key: key };
}
