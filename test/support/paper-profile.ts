// End-to-end order tests: a paper-trading profile of the CLI pointed at a spawned `ibkr-agent simulator` exactly
// as at a real Client Portal Gateway (backend client_portal_gateway, its certificate pinned), the CLI steps of
// preview -> approval -> submit, and the simulator's control API over HTTPS (what the broker really received).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { answer, type CliRun, cliRun, ok } from "./cli-process.ts";
import { CONFIG_HEADER, TEST_SECRET, TEST_SECRET_ENV } from "./gateway.ts";
import { PAPER_ACCOUNT } from "./orders.ts";
import type { SpawnedSimulator } from "./spawn-simulator.ts";

export interface PaperProfile {
  /** The environment of every CLI process of this profile (and nothing inherited that could change it). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs `ibkr-agent <args> --json` in this profile; `extra` adds environment variables (a crash point). */
  cli(args: readonly string[], extra?: NodeJS.ProcessEnv): Promise<CliRun>;
  /** Previews a limit order and approves it, both with the CLI; returns the approval id. */
  approvedOrder(order?: { side?: string; quantity?: string; limitPrice?: string }): Promise<string>;
  /** `orders submit --enable-paper` with this approval and key. */
  submit(approvalId: string, key: string, extra?: NodeJS.ProcessEnv): Promise<CliRun>;
  remove(): void;
}

const SCOPES = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:orders:read",
  "ibkr:marketdata:read",
  "ibkr:audit:read",
  "ibkr:audit:export",
  "ibkr:orders:preview",
  "ibkr:approvals:create",
  "ibkr:orders:paper:submit",
  "ibkr:safety:engage",
];

function configFor(sim: SpawnedSimulator): string {
  return `${CONFIG_HEADER}auth:
  enabled_scopes: [${SCOPES.join(", ")}]
broker:
  backend: client_portal_gateway
  base_url: ${sim.baseUrl}
  ca_file: ${sim.certificateFile}
safety:
  paper_trading_enabled: true
order_preview:
  enabled: true
paper_trading:
  enabled: true
  allowed_accounts: [${PAPER_ACCOUNT}]
`;
}

/** The environment a CLI process gets: PATH and the profile, no IBKR_AGENT_* variable of the test runner. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("IBKR_AGENT_")));
}

/** A fresh state home with a paper profile for the spawned simulator's paper account DU1234567. */
export function paperProfile(sim: SpawnedSimulator): PaperProfile {
  const home = mkdtempSync(join(tmpdir(), "ibkr-e2e-orders-"));
  const config = join(home, "config.yaml");
  writeFileSync(config, configFor(sim));
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    IBKR_AGENT_HOME: join(home, "state"),
    IBKR_AGENT_CONFIG: config,
    [TEST_SECRET_ENV]: TEST_SECRET,
  };
  const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}) =>
    cliRun([...args, "--json"], { ...env, ...extra });
  return {
    env,
    cli,
    async approvedOrder(order = {}) {
      const preview = ok(
        await cli([
          "orders",
          "preview",
          "--enable-preview",
          "--account",
          PAPER_ACCOUNT,
          "--symbol",
          "AAPL",
          "--side",
          order.side ?? "buy",
          "--quantity",
          order.quantity ?? "10",
          "--order-type",
          "limit",
          "--limit-price",
          order.limitPrice ?? "270",
        ]),
      );
      const approval = ok(
        await cli([
          "approvals",
          "create",
          "--account",
          PAPER_ACCOUNT,
          "--preview-id",
          String(preview.preview_id),
        ]),
      );
      return String(approval.approval_id);
    },
    submit: (approvalId, key, extra = {}) =>
      cli(
        [
          "orders",
          "submit",
          "--enable-paper",
          "--account",
          PAPER_ACCOUNT,
          "--approval-id",
          approvalId,
          "--idempotency-key",
          key,
        ],
        extra,
      ),
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Orders of the paper account as `orders list` shows them. */
export async function listedOrders(profile: PaperProfile): Promise<Record<string, unknown>[]> {
  const listed = ok(await profile.cli(["orders", "list", "--account", PAPER_ACCOUNT]));
  return listed.orders as Record<string, unknown>[];
}

/** Every audit event of the profile after a sequence number, through `audit export`. */
export async function auditEvents(profile: PaperProfile, after = 0): Promise<Record<string, unknown>[]> {
  const events: Record<string, unknown>[] = [];
  let cursor = after;
  for (;;) {
    const page = answer(
      await profile.cli(["audit", "export", "--after-sequence", String(cursor), "--limit", "500"]),
    );
    const batch = page.events as Record<string, unknown>[];
    events.push(...batch);
    if (page.more !== true || batch.length === 0) return events;
    cursor = Number(batch[batch.length - 1]?.sequence);
  }
}

export interface SimulatorWire {
  /** Requests the simulator received with this CPAPI operation id, so far. */
  count(operationId: string): Promise<number>;
  /** Requests it refused for pacing (429), so far. */
  rateLimited(): Promise<number>;
  /** Every order the simulated broker holds (GET /__simulator/state). */
  orders(): Promise<{ order_id: number; status: string; filled: number; quantity: number }[]>;
  close(): Promise<void>;
}

/** The spawned simulator's control API over HTTPS, trusting its certificate. */
export function simulatorWire(sim: SpawnedSimulator): SimulatorWire {
  const dispatcher = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
  const get = async (path: string) =>
    (await request(`https://localhost:${sim.port}/__simulator/${path}`, { dispatcher })).body.json();
  return {
    async count(operationId) {
      const log = (await get("requests")) as { operationId: string }[];
      return log.filter((entry) => entry.operationId === operationId).length;
    },
    async rateLimited() {
      const log = (await get("requests")) as { status: number }[];
      return log.filter((entry) => entry.status === 429).length;
    },
    async orders() {
      const state = (await get("state")) as { orders: Awaited<ReturnType<SimulatorWire["orders"]>> };
      return state.orders;
    },
    close: () => dispatcher.close(),
  };
}
