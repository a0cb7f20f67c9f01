// One profile of the refusal suite: a simulator of its own served over HTTPS by `ibkr-agent simulator`, a
// fresh state home with a config file that points at it as at a real Client Portal Gateway, and an
// in-process gateway of this test process on the same home (same store, same coordination file, same local
// principal). The in-process gateway is "another process of the same user": it prepares previews and
// approvals, revokes, engages the kill switch and holds a write open, so the call under test is the only
// thing the front door under test (MCP stdio or the CLI) does in a row. Each profile has its own simulator
// because rows change the broker's state for everyone (log out, drop market data, queue questions).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { hashOperatorPin } from "../../../src/config/pin.ts";
import { composeGateway, type Gateway, type OrderWriters } from "../../../src/gateway/index.ts";
import { TEST_SECRET, TEST_SECRET_ENV } from "../../support/gateway.ts";
import { type SpawnedSimulator, spawnSimulator } from "../../support/spawn-simulator.ts";

export const PIN = "246810";
const PIN_HASH = hashOperatorPin(PIN, { ln: 14 });

export const READ_SCOPES = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:marketdata:read",
  "ibkr:orders:read",
  "ibkr:risk:read",
  "ibkr:audit:read",
] as const;

/** What a profile's config file says; every key the order tools read has a value here or its default. */
export interface ProfileConfig {
  readonly scopes: readonly string[];
  readonly preview?: { readonly enabled?: boolean; readonly ttlSeconds?: number };
  /** Paper allowlist; paper trading is off without it. */
  readonly paper?: readonly string[];
  /** Live allowlist and the one limit policy (YAML lines under the policy, four spaces in); off without it. */
  readonly live?: { readonly accounts: readonly string[]; readonly policy: string };
  readonly requireHuman?: boolean;
}

export interface ProfileSpec {
  /** `ibkr-agent simulator` flags besides the port (scenario, pacing); the market time is fixed. */
  readonly simulator: readonly string[];
  readonly config: ProfileConfig;
}

export interface Profile {
  readonly sim: SpawnedSimulator;
  /** The environment of every process of this profile: PATH and the like, nothing IBKR_AGENT_* inherited. */
  readonly env: NodeJS.ProcessEnv;
  /** The in-process gateway on the same home (front door sdk). */
  readonly home: Gateway;
  readonly storePath: string;
  /** Another in-process gateway on the same home with its own order writers (close it yourself). */
  gatewayWith(writers: OrderWriters): Promise<Gateway>;
  /** Requests the simulator received with this CPAPI operation id, so far. */
  brokerCount(operationId: string): Promise<number>;
  /** POST /__simulator/<action> (the simulator's control API). */
  control(action: string, body?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

function list(items: readonly string[]): string {
  return `[${items.join(", ")}]`;
}

function configYaml(sim: SpawnedSimulator, c: ProfileConfig): string {
  const paper = c.paper !== undefined;
  const live = c.live !== undefined;
  const lines = [
    "audit:",
    `  secret_env: ${TEST_SECRET_ENV}`,
    "  retention_days: 2555",
    "broker:",
    "  backend: client_portal_gateway",
    `  base_url: ${sim.baseUrl}`,
    `  ca_file: ${sim.certificateFile}`,
    "auth:",
    `  enabled_scopes: ${list(c.scopes)}`,
    "safety:",
    `  paper_trading_enabled: ${paper}`,
    `  live_trading_enabled: ${live}`,
    "order_preview:",
    `  enabled: ${c.preview?.enabled ?? true}`,
    "  account_modes: [paper, live]",
    ...(c.preview?.ttlSeconds !== undefined ? [`  ttl_seconds: ${c.preview.ttlSeconds}`] : []),
    "paper_trading:",
    `  enabled: ${paper}`,
    `  allowed_accounts: ${list(c.paper ?? [])}`,
    "operator:",
    `  pin_hash: "${PIN_HASH}"`,
    "approvals:",
    `  require_human: ${c.requireHuman ?? false}`,
  ];
  if (c.live !== undefined) {
    lines.push(
      "live_trading:",
      "  enabled: true",
      `  allowed_accounts: ${list(c.live.accounts)}`,
      "  risk_policy_id: small",
      "  paper_to_live_checklist_acknowledged: true",
      "  policies:",
      "  - id: small",
      c.live.policy.trimEnd(),
    );
  }
  return `${lines.join("\n")}\n`;
}

export async function openProfile(spec: ProfileSpec): Promise<Profile> {
  // Tuesday 10:00 in New York: the market is open for the whole run.
  const sim = await spawnSimulator(["--time", "2026-12-01T15:00:00Z", ...spec.simulator]);
  const dir = mkdtempSync(join(tmpdir(), "ibkr-e2e-refusals-"));
  const configFile = join(dir, "config.yaml");
  writeFileSync(configFile, configYaml(sim, spec.config));
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("IBKR_AGENT_"))),
    IBKR_AGENT_HOME: join(dir, "state"),
    IBKR_AGENT_CONFIG: configFile,
    [TEST_SECRET_ENV]: TEST_SECRET,
  };
  const dispatcher = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
  const opened: Gateway[] = [];
  const open = async (writers?: OrderWriters) => {
    const gateway = await composeGateway({
      frontDoor: "sdk",
      env: { ...env },
      ...(writers !== undefined ? { writers } : {}),
    });
    opened.push(gateway);
    return gateway;
  };
  let home: Gateway;
  try {
    home = await open();
  } catch (error) {
    await dispatcher.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const url = (path: string) => `https://localhost:${sim.port}/__simulator/${path}`;
  return {
    sim,
    env,
    home,
    storePath: home.loaded.paths.storePath,
    gatewayWith: (writers) => open(writers),
    async brokerCount(operationId) {
      const answer = await request(url("requests"), { dispatcher });
      const log = (await answer.body.json()) as { operationId: string }[];
      return log.filter((entry) => entry.operationId === operationId).length;
    },
    async control(action, body = {}) {
      const answer = await request(url(action), {
        method: "POST",
        dispatcher,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`simulator ${action}: ${answer.statusCode} ${text}`);
    },
    async close() {
      for (const gateway of opened) await gateway.close();
      await dispatcher.close();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
