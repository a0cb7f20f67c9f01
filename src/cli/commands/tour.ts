// `ibkr-agent tour`: a guided first run for a new user. It always uses the built-in simulator with the safe
// defaults (whatever --config or $IBKR_AGENT_CONFIG say), runs a few read tools through the same dispatcher,
// scope checks and audit log as every front door, renders each result as the CLI would, then shows how to
// connect an MCP client and where to read on. A step whose tool this build does not implement yet is
// reported as not available and the tour goes on; any other failure is printed and makes the tour exit
// with that error's code once every step has run.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Argv } from "yargs";
import { TOOLS, type ToolCliBinding, type ToolName } from "../../../generated/tools/registry.gen.ts";
import { GatewayError, toWireError, type WireError } from "../../core/gateway-error.ts";
import type { Gateway } from "../../gateway/index.ts";
import { cliCallFacts } from "../open-gateway.ts";
import type { Output } from "../output.ts";

const SIMULATED_BANNER =
  "SIMULATED DATA: everything below comes from the simulated Client Portal Gateway built into ibkr-agent. " +
  "No IBKR account is used and nothing reaches Interactive Brokers.";

const QUOTE_SYMBOL = "AAPL";

/** The stdio MCP server's arguments, the same in every client configuration. */
const MCP_ARGS = ["mcp", "serve", "--transport", "stdio"] as const;

type StepStatus = "ok" | "not_available" | "failed";

export interface StepCall {
  readonly tool: ToolName;
  readonly args: Record<string, unknown>;
  readonly command: string;
  readonly status: StepStatus;
  readonly result?: unknown;
  readonly error?: WireError;
  /** The failure itself, rethrown at the end so the exit code and audit event id are the call's own. */
  readonly failure?: GatewayError;
}

export interface Step {
  readonly title: string;
  readonly explanation: string;
  readonly calls: StepCall[];
  readonly notes: string[];
}

interface TourArgs {
  config?: string;
}

/** The workflows' placeholder for an operation that is not built yet (src/workflows/index.ts). */
function isNotImplemented(error: GatewayError): boolean {
  return error.code === "INTERNAL_ERROR" && /is not implemented in this build/.test(error.message);
}

function quote(value: string): string {
  return /^[A-Za-z0-9._:@/-]+$/.test(value) ? value : `"${value.replaceAll('"', '\\"')}"`;
}

/** The CLI command that makes the same call, from the tool's generated CLI binding. */
export function cliCommandFor(tool: ToolName, args: Record<string, unknown>): string {
  const binding: ToolCliBinding = TOOLS[tool].cli;
  const words = ["ibkr-agent", ...binding.command];
  for (const name of binding.positional) {
    if (args[name] !== undefined) words.push(quote(String(args[name])));
  }
  for (const [name, value] of Object.entries(args)) {
    if (binding.positional.includes(name) || value === undefined) continue;
    const flag = binding.flags.find((f) => f.property === name)?.flag ?? name.replaceAll("_", "-");
    words.push(value === true ? `--${flag}` : `--${flag} ${quote(String(value))}`);
  }
  return words.join(" ");
}

/** Where the package lives and how its command is started: from a checkout (.ts sources) or installed. */
function installation(): { root: string; fromSource: boolean; bin: string } {
  const here = dirname(fileURLToPath(import.meta.url));
  const fromSource = import.meta.url.endsWith(".ts");
  // src/cli/commands -> the checkout; dist/src/cli/commands -> the installed package.
  const root = resolve(here, fromSource ? "../../.." : "../../../..");
  return { root, fromSource, bin: resolve(here, fromSource ? "../bin.ts" : "../bin.js") };
}

/** A client configuration (the `mcpServers` shape most stdio clients read) that starts this installation. */
export function mcpClientSnippet(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const { fromSource, bin } = installation();
  const server: Record<string, unknown> = fromSource
    ? // The Node running this tour is 24 or newer (bin.ts checks), so the snippet names it and the entry file.
      { command: process.execPath, args: [bin, ...MCP_ARGS] }
    : { command: "ibkr-agent", args: [...MCP_ARGS] };
  const home = env.IBKR_AGENT_HOME;
  // A client starts the server with its own environment; name the state root when it is not the default.
  if (home !== undefined && home !== "") server.env = { IBKR_AGENT_HOME: home };
  return { mcpServers: { "ibkr-agent": server } };
}

/** What the tour needs of a gateway (a seam for tests of the not-available path). */
export type TourGateway = Pick<Gateway, "context" | "dispatch">;

async function call(gateway: TourGateway, tool: ToolName, args: Record<string, unknown>): Promise<StepCall> {
  const command = cliCommandFor(tool, args);
  const context = gateway.context(cliCallFacts("tour"));
  const outcome = await gateway.dispatch(tool, args, context);
  if (outcome.ok) return { tool, args, command, status: "ok", result: outcome.result };
  return {
    tool,
    args,
    command,
    status: isNotImplemented(outcome.error) ? "not_available" : "failed",
    error: toWireError(outcome.error),
    failure: outcome.error,
  };
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Runs the tour's tool calls in order; a later step uses what an earlier one returned. */
export async function runTourSteps(gateway: TourGateway): Promise<Step[]> {
  const session = await call(gateway, "ibkr_backend_status", {});
  const steps: Step[] = [
    {
      title: "1. Session status",
      explanation:
        "Whether the Client Portal Gateway is reachable and logged in. With a real gateway this is where " +
        "you learn that a person must log in in the browser; the simulator starts logged in.",
      calls: [session],
      notes: [],
    },
  ];

  const accounts = await call(gateway, "ibkr_accounts_list", {});
  steps.push({
    title: "2. Accounts",
    explanation: "The brokerage accounts this login may use, with paper or live mode and base currency.",
    calls: [accounts],
    notes: [],
  });

  const list = record(accounts.result).accounts;
  const first = Array.isArray(list) ? record(list[0]).account_id : undefined;
  if (typeof first === "string") {
    steps.push({
      title: `3. Positions of ${first}`,
      explanation: "What the first account holds, with average and market price and unrealized P&L.",
      calls: [await call(gateway, "ibkr_positions_list", { account_id: first })],
      notes: [],
    });
  } else {
    steps.push({
      title: "3. Positions",
      explanation: "What the first account holds.",
      calls: [],
      notes: ["Skipped: no account was listed in step 2, so there is no account to read positions from."],
    });
  }

  const resolved = await call(gateway, "ibkr_contract_resolve", { symbol: QUOTE_SYMBOL });
  const quoteStep: Step = {
    title: `4. A quote for ${QUOTE_SYMBOL}`,
    explanation:
      `First the symbol ${QUOTE_SYMBOL} is resolved to exactly one contract id (conid), then the latest ` +
      "quote of that contract is read. Provenance says whether a price is live, delayed or frozen.",
    calls: [resolved],
    notes: [],
  };
  const conid = record(resolved.result).contract_id;
  if (typeof conid === "string") {
    quoteStep.calls.push(await call(gateway, "ibkr_market_snapshot", { contract_id: conid }));
  } else {
    quoteStep.notes.push("The quote itself needs the contract id from the resolve step, so it was skipped.");
  }
  steps.push(quoteStep);
  return steps;
}

function withoutSource(result: unknown): unknown {
  const { source: _source, ...rest } = record(result);
  return rest;
}

/** The tour as a person reads it. */
export async function renderTourText(steps: readonly Step[], ignoredConfig?: string): Promise<string> {
  const { renderResult } = await import("../render/result.ts");
  const lines: string[] = [];
  const output = { text: (line: string) => lines.push(line) };
  output.text("ibkr-agent tour\n");
  output.text(SIMULATED_BANNER);
  output.text(
    "It shows a broker session, the accounts, the positions of the first account and a quote, each read " +
      "by one tool: the same tools an AI agent calls over MCP, through the same scope checks and the same " +
      "audit log. Under each step is the CLI command that makes the same call.",
  );
  if (ignoredConfig !== undefined) {
    output.text(
      `\nThe tour ignores the configuration ${ignoredConfig} and runs on the simulator with the safe defaults.`,
    );
  }
  for (const step of steps) {
    output.text(`\n== ${step.title}\n`);
    output.text(step.explanation);
    for (const c of step.calls) {
      output.text(`\n$ ${c.command}\n`);
      if (c.status === "ok") output.text(renderResult(c.tool, withoutSource(c.result)));
      else if (c.status === "not_available") {
        output.text(
          `This step is not available: ${c.tool} is not implemented in this build yet. The tour goes on.`,
        );
      } else {
        output.text(`This step failed: ${c.error?.code}: ${c.error?.message}`);
        output.text(`What to do: ${c.error?.user_action}`);
      }
    }
    for (const note of step.notes) output.text(`\n${note}`);
  }

  const { root, fromSource } = installation();
  output.text("\n== Connect an MCP client\n");
  output.text(
    "MCP clients that run local servers over stdio (Claude Desktop, Cursor, Continue, the MCP inspector) " +
      "start `ibkr-agent mcp serve --transport stdio` themselves. Put this in the client's MCP " +
      "configuration (for Claude Desktop: claude_desktop_config.json):\n",
  );
  output.text(JSON.stringify(mcpClientSnippet(), null, 2));
  output.text(
    fromSource
      ? "\nThis snippet starts this checkout with the Node that runs the tour. With the package installed " +
          '(`ibkr-agent` on the PATH), use "command": "ibkr-agent" with the same args.'
      : "\nIf the client cannot find `ibkr-agent` on its PATH, give the full path of the command.",
  );
  output.text("The client gets the read tools only. To see what it will get without starting a client:");
  output.text("  ibkr-agent mcp serve --describe");

  const docs = existsSync(join(root, "docs")) ? join(root, "docs") : "docs";
  output.text("\n== Next steps\n");
  output.text("  ibkr-agent tools list              every tool with its scope, tier and command");
  output.text("  ibkr-agent accounts list --json    machine-readable output for scripts");
  output.text("  ibkr-agent config show             the effective configuration (safe defaults now)");
  output.text(`\nRead on (in ${docs}):`);
  output.text("  getting-started.md   install, the CLI, MCP clients, where state lives");
  output.text("  cli.md               every command, --json, exit codes, guard flags");
  output.text("  mcp.md               the stdio server: scopes, errors, logs");
  output.text(
    "  mcp-clients/         ready configurations for Claude Desktop, Cursor, Continue, the inspector",
  );
  output.text("  real-gateway.md      connect a real Client Portal Gateway (paper account first)");
  output.text("  config.md            the configuration file, scopes and safety flags");
  return lines.join("\n");
}

async function runTour(args: TourArgs, output: Output): Promise<void> {
  const ignoredConfig =
    args.config !== undefined && args.config !== ""
      ? args.config
      : process.env.IBKR_AGENT_CONFIG !== undefined && process.env.IBKR_AGENT_CONFIG !== ""
        ? process.env.IBKR_AGENT_CONFIG
        : undefined;
  const { composeGateway } = await import("../../gateway/index.ts");
  // No file: the safe defaults (simulator backend, read scopes), with state under $IBKR_AGENT_HOME as usual.
  const gateway = await composeGateway({
    frontDoor: "cli",
    env: { ...process.env, IBKR_AGENT_CONFIG: "" },
  });
  let steps: Step[];
  try {
    if (!gateway.broker.source().simulated) {
      throw new GatewayError("CONFIG_INVALID", {
        message: "The tour runs only on the built-in simulator, and the safe defaults did not select it.",
      });
    }
    steps = await runTourSteps(gateway);
  } finally {
    await gateway.close();
  }

  if (output.json) {
    output.data({
      simulated: true,
      steps: steps.map((step) => ({
        title: step.title,
        calls: step.calls.map((c) => ({
          tool: c.tool,
          arguments: c.args,
          command: c.command,
          status: c.status,
          ...(c.status === "ok" ? { result: c.result } : { error: c.error }),
        })),
        notes: step.notes,
      })),
      mcp_client: mcpClientSnippet(),
    });
  } else {
    output.text(await renderTourText(steps, ignoredConfig));
  }

  const failed = steps.flatMap((step) => step.calls).find((c) => c.status === "failed");
  if (failed?.failure !== undefined) throw failed.failure;
}

export function tourCommand(yargs: Argv, output: () => Output): Argv {
  return yargs.command(
    "tour",
    "A guided tour on the built-in simulator: session, accounts, positions, a quote, MCP setup",
    (y) =>
      y
        .example("$0 tour", "Start here: everything shown is simulated")
        .example("$0 tour --json", "The same steps and results as JSON"),
    (argv) => runTour(argv as unknown as TourArgs, output()),
  );
}
