// The CLI composition: global flags, the command tree, and one place that turns any failure into the
// catalogue's exit code and a clear message. Commands only parse input and render output.
//
// Startup cost matters (`--help`, `--version` and `health` must feel instant), so the command tree is a
// table of top-level words with one-line descriptions; only the module of the command actually invoked is
// imported. `--help` without a command needs no command module at all.
import type { Argv } from "yargs";
import yargs from "yargs";
import type { GatewayError } from "../core/gateway-error.ts";
import { COMMAND_TABLE, type CommandEntry } from "./command-table.ts";
import { createOutput, type Output } from "./output.ts";
import { PACKAGE_VERSION } from "./version.ts";

function baseParser(argv: readonly string[], onOutput: (output: Output) => void): Argv {
  return yargs([...argv])
    .scriptName("ibkr-agent")
    .usage(
      "$0 <command> [options]\n\nUse an Interactive Brokers account safely from AI agents and the terminal.",
    )
    .option("json", {
      type: "boolean",
      describe: "Print stable machine-readable JSON instead of tables",
      global: true,
    })
    .option("config", {
      type: "string",
      describe: "Configuration file (default: $IBKR_AGENT_CONFIG, else safe defaults)",
      global: true,
    })
    .middleware((args) => onOutput(createOutput(Boolean(args.json))))
    .version(PACKAGE_VERSION)
    .alias("h", "help")
    .strict()
    .demandCommand(1, "Name a command; run ibkr-agent --help to see them.")
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .epilog("Docs: docs/README.md. Every tool is also an MCP tool and an SDK method.");
}

/** Ends a run after yargs reported a usage mistake (unknown command, missing or conflicting flag). */
class UsageError extends Error {}

/** Global flags that take a value in the next word (`--config FILE`). */
const GLOBAL_VALUE_FLAGS = new Set(["--config"]);

/** The first word that is neither a flag nor a global flag's value, i.e. the command the user asked for. */
function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (GLOBAL_VALUE_FLAGS.has(arg)) {
      i += 1;
      continue;
    }
    if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  let output: Output = createOutput(argv.includes("--json"));
  let exitCode = 0;
  const cli = baseParser(argv, (next) => {
    output = next;
  })
    .fail((message, error) => {
      if (error) throw error;
      // Usage mistakes (unknown command, missing flag) are input errors: exit 2 like INPUT_* codes.
      process.stderr.write(`${message}\nRun ibkr-agent --help for usage.\n`);
      exitCode = 2;
    })
    // yargs still runs the command's handler after reporting a usage mistake; this stops it there.
    .middleware(() => {
      if (exitCode === 2) throw new UsageError("usage mistake already reported");
    });
  const word = commandWord(argv);
  const invoked = COMMAND_TABLE.find((entry) => entry.name === word);
  for (const entry of COMMAND_TABLE) {
    if (entry === invoked) continue;
    // Listed for --help and suggestions only; selecting it would have made it `invoked`.
    cli.command(
      entry.name,
      entry.describe,
      (y) => y,
      () => undefined,
    );
  }
  if (invoked) await mount(cli, invoked, () => output);
  try {
    await cli.parseAsync();
  } catch (thrown) {
    if (thrown instanceof UsageError) return exitCode;
    const { toGatewayError } = await import("../core/gateway-error.ts");
    const { cliExitCode } = await import("../core/error-mapping.ts");
    const error: GatewayError = toGatewayError(thrown);
    output.error(error);
    exitCode = cliExitCode(error);
  }
  return exitCode;
}

async function mount(cli: Argv, entry: CommandEntry, output: () => Output): Promise<void> {
  const register = await entry.load();
  register(cli, output);
}
