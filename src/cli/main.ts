// The CLI composition: global flags, the command tree, and one place that turns any failure into the
// catalogue's exit code and a clear message. Commands only parse input and render output.
import yargs from "yargs";
import { cliExitCode } from "../core/error-mapping.ts";
import { toGatewayError } from "../core/gateway-error.ts";
import { toolsCommand } from "./commands/tools.ts";
import { createOutput, type Output } from "./output.ts";
import { PACKAGE_VERSION } from "./version.ts";

export async function main(argv: readonly string[]): Promise<number> {
  let output: Output = createOutput(argv.includes("--json"));
  let exitCode = 0;
  const cli = yargs([...argv])
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
    .middleware((args) => {
      output = createOutput(Boolean(args.json));
    })
    .version(PACKAGE_VERSION)
    .alias("h", "help")
    .strict()
    .demandCommand(1, "Name a command; run ibkr-agent --help to see them.")
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .epilog("Docs: docs/README.md. Every tool is also an MCP tool and an SDK method.")
    .fail((message, error) => {
      if (error) throw error;
      // Usage mistakes (unknown command, missing flag) are input errors: exit 2 like INPUT_* codes.
      process.stderr.write(`${message}\nRun ibkr-agent --help for usage.\n`);
      exitCode = 2;
    });
  toolsCommand(cli, () => output);
  try {
    await cli.parseAsync();
  } catch (thrown) {
    const error = toGatewayError(thrown);
    output.error(error);
    exitCode = cliExitCode(error);
  }
  return exitCode;
}
