// Test support for the composed gateway: a fresh $IBKR_AGENT_HOME per test, an optional config file
// written from YAML (its audit secret in a test environment variable), and the in-process simulator on a
// manual clock shared with the client, so tests can move time and drive the broker through its control API.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { createManualClock, type ManualClock } from "../../src/core/clock.ts";
import { composeGateway, type FrontDoor, type Gateway } from "../../src/gateway/index.ts";
import { createSimulator, type Simulator } from "../../src/simulator/index.ts";
import { MARKET_OPEN } from "./simulator.ts";

export const TEST_SECRET_ENV = "IBKR_AGENT_TEST_AUDIT_SECRET";
export const TEST_SECRET = "test-audit-secret-0123456789abcdef0123456789";

const homes: string[] = [];
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

export function tempHome(): string {
  const home = mkdtempSync(join(tmpdir(), "ibkr-gw-"));
  homes.push(home);
  return home;
}

export interface TestGateway {
  readonly gateway: Gateway;
  readonly sim: Simulator;
  readonly clock: ManualClock;
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface TestGatewayOptions {
  /** YAML body of a config file; without it the safe defaults apply. */
  readonly config?: string;
  readonly scenario?: string;
  readonly frontDoor?: FrontDoor;
  readonly startAt?: number;
  readonly seed?: number;
}

/** A config file's first lines that every test config needs (the audit secret from the environment). */
export const CONFIG_HEADER = `audit:\n  secret_env: ${TEST_SECRET_ENV}\n`;

export async function testGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const home = tempHome();
  const env: NodeJS.ProcessEnv = { ...process.env, IBKR_AGENT_HOME: home, [TEST_SECRET_ENV]: TEST_SECRET };
  delete env.IBKR_AGENT_CONFIG;
  let file: string | undefined;
  if (options.config !== undefined) {
    file = join(home, "config.yaml");
    writeFileSync(file, options.config);
  }
  const clock = createManualClock(options.startAt ?? MARKET_OPEN);
  const sim = createSimulator({ clock, scenario: options.scenario ?? "healthy", seed: options.seed ?? 1 });
  const gateway = await composeGateway({
    frontDoor: options.frontDoor ?? "sdk",
    env,
    ...(file !== undefined ? { file } : {}),
    clock,
    simulator: sim,
    // Virtual waits: pacing and pre-flight re-asks move the shared clock instead of sleeping.
    sleep: async (ms) => {
      const target = clock.now() + ms;
      for (let i = 0; i < 30; i += 1) await new Promise((resolve) => setImmediate(resolve));
      if (clock.now() < target) clock.set(target);
    },
  });
  gateways.push(gateway);
  return { gateway, sim, clock, home, env };
}

/** Calls a tool and returns its result, failing the test with the error's code when it fails. */
export async function callOk(
  gateway: Gateway,
  tool: string,
  args: unknown = {},
): Promise<Record<string, unknown>> {
  const outcome = await gateway.dispatch(tool, args);
  if (!outcome.ok) throw new Error(`${tool} failed: ${outcome.error.code} ${outcome.error.message}`);
  return outcome.result as Record<string, unknown>;
}

/** Calls a tool expected to fail and returns its error code. */
export async function callCode(gateway: Gateway, tool: string, args: unknown = {}): Promise<string> {
  const outcome = await gateway.dispatch(tool, args);
  if (outcome.ok) throw new Error(`${tool} unexpectedly succeeded`);
  return outcome.error.code;
}
