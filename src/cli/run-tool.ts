// Runs one tool from the command line: the generated command already turned flags into the tool's argument
// object; this opens the gateway, checks the command's guard flag, dispatches (validation, scopes, gates,
// audit happen there), and prints the result - JSON with --json, readable tables otherwise. Failures are
// thrown as GatewayErrors for main.ts to print with their exit code.
import type { ParsedArgs } from "../../generated/bindings/cli.gen.ts";
import { TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { isInteractive, openCliGateway } from "./open-gateway.ts";
import type { Output } from "./output.ts";

export function createToolRunner(output: () => Output) {
  return async (tool: ToolName, args: Record<string, unknown>, argv: ParsedArgs): Promise<void> => {
    const binding = TOOLS[tool].cli;
    if (binding.guard !== null && argv[binding.guard] !== true) {
      throw new GatewayError("INPUT_INVALID_ARGUMENT", {
        message: `ibkr-agent ${binding.command.join(" ")} needs --${binding.guard} to confirm you mean it.`,
        userAction: `Add --${binding.guard} to the command.`,
        details: { field: binding.guard },
      });
    }
    const gateway = await openCliGateway({ config: argv.config as string | undefined });
    try {
      const context = gateway.context({
        interactive: isInteractive(),
        metadata: { command: binding.command.join(" ") },
      });
      const outcome = await gateway.dispatch(tool, args, context);
      if (!outcome.ok) throw outcome.error;
      const out = output();
      if (out.json) out.data(outcome.result);
      else {
        const { renderResult } = await import("./render/result.ts");
        out.text(renderResult(tool, outcome.result));
      }
    } finally {
      await gateway.close();
    }
  };
}
