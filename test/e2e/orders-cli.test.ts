// The order and operator commands as a person and a script meet them: every step its own CLI process, against
// the simulator served over HTTPS by `ibkr-agent simulator` (configured as a real Client Portal Gateway),
// with the store in a real SQLite file. Operator steps run in a pseudo-terminal (`script`) where the test
// types the PIN after the prompt, as a person would; the same steps without a terminal are refused.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashOperatorPin } from "../../src/config/pin.ts";
import { composeGateway } from "../../src/gateway/index.ts";
import { cli } from "../support/run.ts";
import { type SpawnedSimulator, spawnSimulator } from "../support/spawn-simulator.ts";
import { cliInTerminal } from "../support/terminal.ts";

const SECRET_ENV = "IBKR_AGENT_E2E_AUDIT_SECRET";
const PIN = "246810";
const ACCOUNT = "DU1234567";
const SCOPES = [
  "ibkr:health:read",
  "ibkr:accounts:read",
  "ibkr:marketdata:read",
  "ibkr:orders:read",
  "ibkr:risk:read",
  "ibkr:audit:read",
  "ibkr:orders:preview",
  "ibkr:approvals:create",
  "ibkr:orders:paper:submit",
  "ibkr:orders:paper:cancel",
  "ibkr:safety:engage",
];

let sim: SpawnedSimulator;
let home: string;
let paper: NodeJS.ProcessEnv;
let human: NodeJS.ProcessEnv;
let live: NodeJS.ProcessEnv;

function writeConfig(name: string, extra: string): string {
  const file = join(home, `${name}.yaml`);
  writeFileSync(
    file,
    `audit:
  secret_env: ${SECRET_ENV}
broker:
  backend: client_portal_gateway
  base_url: ${sim.baseUrl}
  ca_file: ${sim.certificateFile}
auth:
  enabled_scopes: [${SCOPES.join(", ")}]
paper_trading:
  enabled: true
  allowed_accounts: [${ACCOUNT}]
operator:
  pin_hash: "${hashOperatorPin(PIN, { ln: 14 })}"
${extra}`,
  );
  return file;
}

function envFor(config: string, state = "state"): NodeJS.ProcessEnv {
  return {
    IBKR_AGENT_HOME: join(home, state),
    IBKR_AGENT_CONFIG: config,
    [SECRET_ENV]: "e2e-secret-0123456789abcdef0123456789ab",
  };
}

beforeAll(async () => {
  sim = await spawnSimulator(["--time", "2026-12-01T15:00:00Z", "--seed", "3"]);
  home = mkdtempSync(join(tmpdir(), "ibkr-e2e-orders-"));
  const orders = "safety:\n  paper_trading_enabled: true\norder_preview:\n  enabled: true\n";
  paper = envFor(writeConfig("paper", orders));
  human = envFor(writeConfig("human", `${orders}approvals:\n  require_human: true\n`));
  live = envFor(
    writeConfig(
      "live",
      `safety:
  paper_trading_enabled: true
  live_trading_enabled: true
order_preview:
  enabled: true
  account_modes: [paper, live]
live_trading:
  enabled: true
  allowed_accounts: [U1234567]
  risk_policy_id: small
  paper_to_live_checklist_acknowledged: true
  policies:
    - id: small
      max_order_quantity: "10"
      max_order_notional: "5000"
      allowed_symbols: [AAPL]
`,
    ),
    "live-state",
  );
});

afterAll(async () => {
  await sim?.stop();
  rmSync(home, { recursive: true, force: true });
});

function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** A buy limit a little under the market: near enough for no price question, far enough to stay working. */
async function workingLimit(env: NodeJS.ProcessEnv): Promise<string> {
  const quote = await cli(["market", "snapshot", "--contract-id", "265598", "--json"], env);
  expect(quote.code).toBe(0);
  return String(Math.floor(Number(json(quote.stdout).last)) - 3);
}

function previewArgs(limit: string): string[] {
  return [
    "orders",
    "preview",
    "--enable-preview",
    "--account",
    ACCOUNT,
    "--symbol",
    "AAPL",
    "--side",
    "buy",
    "--quantity",
    "10",
    "--order-type",
    "limit",
    "--limit-price",
    limit,
  ];
}

describe("ibkr-agent order commands against the HTTPS simulator", () => {
  let brokerOrderId = "";

  it("previews, approves, submits, lists and cancels a paper order, each step its own process", async () => {
    const limit = await workingLimit(paper);
    const preview = await cli(previewArgs(limit), paper);
    expect(preview.stderr).toBe("");
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain(`order:    BUY 10 AAPL limit ${limit}, DAY`);
    const previewId = /^Preview (pv_\w+) for DU1234567 - nothing was sent to the broker\.$/m.exec(
      preview.stdout,
    )?.[1];
    expect(previewId).toBeDefined();
    expect(preview.stdout).toContain(
      `  ibkr-agent approvals create --account DU1234567 --preview-id ${previewId}`,
    );

    const approval = await cli(
      ["approvals", "create", "--account", ACCOUNT, "--preview-id", String(previewId), "--json"],
      paper,
    );
    expect(approval.code).toBe(0);
    const approved = json(approval.stdout);
    expect(approved).toMatchObject({ preview_id: previewId, status: "approved", approved_by: "agent" });

    const approvalId = String(approved.approval_id);
    const submit = await cli(
      [
        "orders",
        "submit",
        "--enable-paper",
        "--account",
        ACCOUNT,
        "--approval-id",
        approvalId,
        "--idempotency-key",
        `submit-${approvalId}`,
      ],
      paper,
    );
    expect(submit.stderr).toBe("");
    expect(submit.code).toBe(0);
    expect(submit.stdout).toContain(`Paper order submitted: BUY 10 AAPL limit ${limit}, DAY on DU1234567.`);
    expect(submit.stdout).toContain("writer:          broker (sent to the broker)");
    brokerOrderId = /^broker order id: (\d+)$/m.exec(submit.stdout)?.[1] ?? "";
    expect(brokerOrderId).toMatch(/^\d+$/);

    const list = await cli(["orders", "list", "--account", ACCOUNT, "--json"], paper);
    expect(list.code).toBe(0);
    const listed = (json(list.stdout).orders as { broker_order_id: string; status: string }[]).find(
      (order) => order.broker_order_id === brokerOrderId,
    );
    expect(listed?.status).toBe("open");

    const cancel = await cli(
      [
        "orders",
        "cancel",
        "--enable-paper",
        "--account",
        ACCOUNT,
        "--broker-order-id",
        brokerOrderId,
        "--idempotency-key",
        `cancel-${brokerOrderId}`,
        "--json",
      ],
      paper,
    );
    expect(cancel.code).toBe(0);
    expect(json(cancel.stdout)).toMatchObject({
      broker_order_id: brokerOrderId,
      status: "pending_cancel",
      replayed: false,
      mode: "paper",
      writer: "broker",
    });
  }, 60_000);

  it("reconciles the cancelled order to its end and stops following it", async () => {
    const result = await cli(["orders", "reconcile", "--json"], paper);
    expect(result.code).toBe(0);
    expect(json(result.stdout)).toMatchObject({
      ran: true,
      checked: 1,
      changes: [
        { broker_order_id: brokerOrderId, mode: "paper", current_status: "cancelled", terminal: true },
      ],
      unresolved: [],
      recovery: [],
      backlog: 0,
    });
  }, 30_000);

  it("refuses commands without their guard flag with the seed's codes, and audits the refusals", async () => {
    const submit = await cli(
      [
        "orders",
        "submit",
        "--account",
        ACCOUNT,
        "--approval-id",
        "ap_01JD8X7Q2M3N4P5R6S",
        "--idempotency-key",
        "guard-0001",
        "--json",
      ],
      paper,
    );
    expect(submit.code).toBe(1);
    const refused = json(submit.stdout).error as Record<string, unknown>;
    expect(refused).toMatchObject({
      code: "PAPER_TRADING_DISABLED",
      user_action: "Add --enable-paper to the command.",
    });
    const preview = await cli(
      previewArgs("100").filter((arg) => arg !== "--enable-preview"),
      paper,
    );
    expect(preview.code).toBe(1);
    expect(preview.stderr).toContain(
      "Error ORDER_PREVIEW_DISABLED: ibkr-agent orders preview needs --enable-preview to confirm you mean it; nothing was sent.",
    );
    const tail = await cli(["audit", "tail", "--limit", "2", "--json"], paper);
    expect(tail.code).toBe(0);
    const events = (json(tail.stdout).events as Record<string, unknown>[]).map((e) => ({
      event_id: e.event_id,
      event_type: e.event_type,
      tool: e.tool,
      decision: e.decision,
      result_status: e.result_status,
      error_code: e.error_code,
    }));
    expect(events).toEqual([
      {
        event_id: refused.audit_event_id,
        event_type: "tool_call",
        tool: "ibkr_paper_order_submit",
        decision: "refuse",
        result_status: "refused",
        error_code: "PAPER_TRADING_DISABLED",
      },
      {
        event_id: expect.any(String),
        event_type: "tool_call",
        tool: "ibkr_order_preview",
        decision: "refuse",
        result_status: "refused",
        error_code: "ORDER_PREVIEW_DISABLED",
      },
    ]);
    // The full events (audit tail shows a summary) name the CLI command each refusal came from.
    const gateway = await composeGateway({ frontDoor: "sdk", env: paper });
    try {
      const byId = new Map([...gateway.store.exportEvents()].map((event) => [event.event_id, event]));
      expect(events.map((event) => byId.get(String(event.event_id))?.metadata.cli_command)).toEqual([
        "orders submit",
        "orders preview",
      ]);
    } finally {
      await gateway.close();
    }
  }, 30_000);

  it("approves under require_human only at a terminal with the operator PIN", async () => {
    const preview = await cli([...previewArgs(await workingLimit(human)), "--json"], human);
    expect(preview.code).toBe(0);
    const previewId = String(json(preview.stdout).preview_id);
    const args = ["approvals", "create", "--account", ACCOUNT, "--preview-id", previewId];

    const piped = await cli([...args, "--json"], human);
    expect(piped.code).toBe(4);
    expect(json(piped.stdout)).toMatchObject({ error: { code: "APPROVAL_HUMAN_REQUIRED" } });

    const typed = await cliInTerminal(args, human, { pin: PIN });
    expect(typed.code).toBe(0);
    expect(typed.output).toContain(`You are approving preview ${previewId} for DU1234567 (paper account):`);
    expect(typed.output).toMatch(/^order: {4}BUY 10 AAPL limit \d+, DAY$/m);
    expect(typed.output).toContain("Operator PIN (not shown): \n");
    expect(typed.output).toMatch(
      new RegExp(
        `^Approval ap_\\w+ of preview ${previewId} \\(single order\\) for DU1234567: approved by operator\\.$`,
        "m",
      ),
    );
    expect(typed.output).not.toContain(PIN);
  }, 60_000);

  it("engages the kill switch with --cancel-open and releases it only with the right PIN at a terminal", async () => {
    const engaged = await cliInTerminal(
      ["kill-switch", "engage", "--reason", "e2e: flatten everything", "--cancel-open"],
      paper,
      { pin: PIN },
    );
    expect(engaged.code).toBe(0);
    expect(engaged.output).toContain(
      "Kill switch ENGAGED: every order submit and modify is now refused; cancels still work. Live trading is disarmed.",
    );
    expect(engaged.output).toContain("No working orders were found, so none were cancelled.");

    const release = ["kill-switch", "release", "--reason", "e2e: reviewed"];
    const wrong = await cliInTerminal(release, paper, { pin: "135790" });
    expect(wrong.code).toBe(4);
    expect(wrong.output).toContain("Error OPERATOR_PIN_INVALID");
    const right = await cliInTerminal(release, paper, { pin: PIN });
    expect(right.code).toBe(0);
    expect(right.output).toContain(
      "Kill switch released: order submits and modifies run through their normal gates again.",
    );
    for (const output of [engaged.output, wrong.output, right.output]) expect(output).not.toContain(PIN);

    const tail = await cli(["audit", "tail", "--limit", "3", "--json"], paper);
    expect((json(tail.stdout).events as { event_type: string }[]).map((e) => e.event_type)).toEqual([
      "kill_switch_engaged",
      "auth_denied",
      "kill_switch_released",
    ]);
  }, 60_000);

  it("shows the live prerequisites and arms live trading only from the operator's terminal", async () => {
    const before = await cli(["live", "status"], live);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain("Prerequisites (5 of 5 met):");
    expect(before.stdout).toContain(
      'Every prerequisite is met. The operator arms live trading in a terminal (asks for the PIN): ibkr-agent live arm --reason "..."',
    );

    const arm = ["live", "arm", "--reason", "e2e: checklist done"];
    const piped = await cli([...arm, "--json"], live);
    expect(piped.code).toBe(4);
    expect(json(piped.stdout)).toMatchObject({ error: { code: "APPROVAL_HUMAN_REQUIRED" } });
    const typed = await cliInTerminal(arm, live, { pin: PIN });
    expect(typed.code).toBe(0);
    expect(typed.output).toMatch(/^Live trading ARMED at \S+ under policy small\./m);

    const after = await cli(["live", "status", "--json"], live);
    const status = json(after.stdout);
    expect(status).toMatchObject({ armed: true, armed_for_current_config: true, kill_switch: "released" });
    expect((status.prerequisites as { name: string; met: boolean }[]).map((p) => [p.name, p.met])).toEqual([
      ["live_enabled", true],
      ["checklist", true],
      ["allowlist", true],
      ["policy", true],
      ["retention", true],
    ]);
  }, 60_000);
});
