// `ibkr-agent simulator`: the simulated Client Portal Gateway as a real HTTPS server on loopback, for demos,
// end-to-end tests and trying every command without an IBKR account. It prints where it listens (and, with
// --json, one machine-readable line), writes its certificate for pinning, and stops cleanly on SIGINT or
// SIGTERM. Its state lives in memory unless --state names a file (the same persistence the default backend
// uses). `ibkr-agent simulator reset-state` removes the default backend's persisted state of a profile.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Argv } from "yargs";
import { GatewayError } from "../../core/gateway-error.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render/table.ts";

interface SimulatorArgs {
  port: number;
  host: string;
  scenario: string;
  seed: number;
  time?: string;
  "cert-out"?: string;
  pacing: string;
  state?: string;
  "list-scenarios"?: boolean;
}

interface ResetArgs {
  config?: string;
}

function parseStart(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  if (!Number.isFinite(ms)) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `--time must be an ISO 8601 timestamp such as 2026-12-01T15:00:00Z, not "${time}".`,
      details: { field: "time" },
    });
  }
  return ms;
}

async function listScenarios(output: Output): Promise<void> {
  const { SCENARIOS } = await import("../../simulator/scenarios.ts");
  const rows = [...SCENARIOS.values()];
  if (output.json) {
    output.data(rows.map((s) => ({ name: s.name, description: s.description })));
    return;
  }
  output.text(
    renderTable(rows, [
      { header: "SCENARIO", value: (s) => s.name },
      { header: "WHAT IT SIMULATES", value: (s) => s.description },
    ]),
  );
}

async function runSimulator(args: SimulatorArgs, output: Output): Promise<void> {
  if (args["list-scenarios"]) return listScenarios(output);
  const { createSimulator, resolveScenario } = await import("../../simulator/index.ts");
  let scenario: ReturnType<typeof resolveScenario>;
  try {
    scenario = resolveScenario(args.scenario);
  } catch (error) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: (error as Error).message,
      userAction: "Run `ibkr-agent simulator --list-scenarios` to see the scenarios.",
      details: { field: "scenario" },
    });
  }
  if (!Number.isSafeInteger(args.seed) || args.seed < 0) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "--seed must be a non-negative integer.",
      details: { field: "seed" },
    });
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65_535) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "--port must be a TCP port (0-65535; 0 picks a free one).",
      details: { field: "port" },
    });
  }
  const options = {
    scenario: scenario.name,
    seed: args.seed,
    startAt: parseStart(args.time),
    pacing: args.pacing === "bench" ? ("bench" as const) : ("cpapi" as const),
  };
  let simulator: ReturnType<typeof createSimulator>;
  if (args.state === undefined) simulator = createSimulator(options);
  else {
    const { createLogger } = await import("../../core/logger.ts");
    const logger = createLogger();
    try {
      simulator = createSimulator({
        ...options,
        statePath: resolve(args.state),
        log: (level, message, fields) => logger[level](message, fields),
      });
    } catch (error) {
      throw new GatewayError("INPUT_INVALID_ARGUMENT", {
        message: `--state ${args.state} cannot be used as the simulator's state file: ${(error as Error).message}`,
        userAction:
          "Name a file in a directory you can write to, or leave --state out to keep the state in memory.",
        details: { field: "state" },
      });
    }
  }
  let server: Awaited<ReturnType<typeof simulator.serve>>;
  try {
    server = await simulator.serve({ port: args.port, host: args.host });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new GatewayError("CONFIG_INVALID", {
      message:
        code === "EADDRINUSE"
          ? `Port ${args.port} is already in use on ${args.host}.`
          : `The simulator could not listen on ${args.host}:${args.port}: ${(error as Error).message}`,
      userAction: "Pick another port with --port (0 picks a free one), or stop what is listening there.",
      details: { field: "port" },
    });
  }
  const tempDir =
    args["cert-out"] === undefined ? mkdtempSync(join(tmpdir(), "ibkr-agent-simulator-")) : null;
  const certFile = args["cert-out"] ?? join(tempDir as string, "certificate.pem");
  writeFileSync(certFile, server.certificatePem, { mode: 0o644 });
  const info = {
    base_url: server.baseUrl,
    port: server.port,
    addresses: server.addresses,
    scenario: scenario.name,
    seed: args.seed,
    simulated_time: new Date(simulator.clock.now()).toISOString(),
    certificate_file: certFile,
    control_url: `${server.origin}/__simulator/state`,
    state_file: args.state === undefined ? null : resolve(args.state),
    pid: process.pid,
  };
  // Listen for the stop signals before announcing the server: a supervisor may signal right after the line.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  if (output.json) process.stdout.write(`${JSON.stringify(info)}\n`);
  else {
    output.text(`Simulated Client Portal Gateway - scenario ${scenario.name}, seed ${args.seed}`);
    output.text(`  ${scenario.description}`);
    output.text(`  Base URL:     ${server.baseUrl}  (listening on ${server.addresses.join(" and ")})`);
    output.text(`  Certificate:  ${certFile}  (pin it with broker.ca_file)`);
    output.text(`  Control API:  ${info.control_url}`);
    output.text(`  Market time:  ${info.simulated_time}`);
    output.text(`  State:        ${info.state_file ?? "in memory (gone when the server stops)"}`);
    output.text("All data is simulated; nothing reaches Interactive Brokers. Press Ctrl+C to stop.");
  }
  await stopped;
  await server.close();
  simulator.close();
  if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true });
  if (!output.json) output.text("Simulator stopped.");
}

async function resetState(args: ResetArgs, output: Output): Promise<void> {
  const { loadConfig } = await import("../../config/index.ts");
  const loaded = loadConfig({ file: args.config, checkEnvironment: false });
  if (loaded.config.broker.backend !== "simulator") {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `The configuration uses the ${loaded.config.broker.backend} backend; its profile has no simulator state.`,
      userAction: "Name a configuration whose broker.backend is simulator (or none, for the safe defaults).",
      details: { field: "config" },
    });
  }
  const { removeSimulatorState, simulatorStatePath } = await import("../../simulator/persistence.ts");
  const result = removeSimulatorState(simulatorStatePath(loaded.paths.profileDir));
  const removed = result.removed;
  if (output.json) {
    output.data({
      profile: loaded.paths.profile,
      state_file: result.path,
      removed:
        removed === null
          ? null
          : {
              seed: removed.seed,
              scenario: removed.scenario,
              version: removed.version,
              created_at: removed.createdAt === null ? null : new Date(removed.createdAt).toISOString(),
              saved_at: new Date(removed.savedAt).toISOString(),
              orders: removed.orders,
              working_orders: removed.workingOrders,
              executions: removed.executions,
            },
      deleted_files: result.deletedFiles,
    });
    return;
  }
  if (removed !== null) {
    const counts =
      removed.orders === null
        ? ""
        : `, ${removed.orders} order(s) (${removed.workingOrders} working) and ${removed.executions} execution(s)`;
    output.text(
      `Removed the simulator state of profile ${loaded.paths.profile}: seed ${removed.seed}, scenario ${removed.scenario}${counts}.`,
    );
  } else if (result.deletedFiles.length > 0) {
    output.text(`Deleted ${result.deletedFiles.join(", ")}: not a simulator state file.`);
  } else {
    output.text(`The profile ${loaded.paths.profile} has no simulator state; nothing to remove.`);
  }
  output.text(`  File: ${result.path}`);
  if (removed !== null || result.deletedFiles.length > 0)
    output.text(
      "The next command starts the simulator afresh (running processes follow at their next call).",
    );
}

export function simulatorCommand(yargs: Argv, output: () => Output): Argv {
  return yargs.command(
    "simulator",
    "Run the simulated Client Portal Gateway over HTTPS (no IBKR account needed)",
    (y) =>
      y
        .command(
          "reset-state",
          "Remove the default simulator's persisted state of the profile (orders, positions, session)",
          (r) => r.example("$0 simulator reset-state", "Start the built-in simulator afresh"),
          (argv) => resetState(argv as unknown as ResetArgs, output()),
        )
        .option("port", {
          type: "number",
          default: 5055,
          describe: "TCP port (0 picks a free one; never 5000, the real gateway's)",
        })
        .option("host", {
          type: "string",
          default: "localhost",
          choices: ["localhost", "127.0.0.1", "::1"],
          describe: "Loopback address to listen on (localhost: IPv4 and IPv6)",
        })
        .option("scenario", {
          type: "string",
          default: "healthy",
          describe: "Starting situation (see --list-scenarios)",
        })
        .option("seed", {
          type: "number",
          default: 1,
          describe: "Seed of the simulated market (same seed, same prices)",
        })
        .option("time", {
          type: "string",
          describe: "Simulated start time, ISO 8601 (default: now); the clock runs from there",
        })
        .option("cert-out", {
          type: "string",
          describe: "Write the server certificate here (default: a temporary file)",
        })
        .option("pacing", {
          type: "string",
          default: "cpapi",
          choices: ["cpapi", "bench"],
          describe: "cpapi: IBKR's rate limits with 429 and penalty box; bench: no limits",
        })
        .option("state", {
          type: "string",
          describe: "Keep the simulator's state in this SQLite file (default: in memory)",
        })
        .option("list-scenarios", { type: "boolean", describe: "List the scenarios and exit" })
        .example("$0 simulator", "Serve https://localhost:5055/v1/api with the healthy scenario")
        .example(
          "$0 simulator --scenario competing-session --port 0 --json",
          "A free port, one JSON line on stdout",
        ),
    (argv) => runSimulator(argv as unknown as SimulatorArgs, output()),
  );
}
