// Runs one tool from the command line: the generated command already turned flags into the tool's argument
// object; this opens the gateway, checks the command's guard flag (a refusal is audited like any other),
// dispatches (validation, scopes, gates, audit happen there), and prints the result - JSON with --json,
// readable text otherwise. A word's module may give a tool a hand-written path (an operator path that needs
// the terminal and the PIN); it gets the same gateway, context and arguments. Failures are thrown as
// GatewayErrors for main.ts to print with their exit code.
import type { ParsedArgs } from "../../generated/bindings/cli.gen.ts";
import { TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import type { CallContext, Gateway } from "../gateway/index.ts";
import { guardRefusal } from "./guard.ts";
import { liveWriterFor } from "./live-broker.ts";
import { withCliGateway } from "./open-gateway.ts";
import type { Output } from "./output.ts";

export interface ToolCall {
  readonly gateway: Gateway;
  readonly context: CallContext;
  readonly tool: ToolName;
  readonly args: Record<string, unknown>;
  readonly argv: ParsedArgs;
  readonly output: Output;
}

/** A hand-written path for one tool's command; resolves false to run the tool as usual. */
export type ToolPath = (call: ToolCall) => Promise<boolean>;
export type ToolPaths = Partial<Record<ToolName, ToolPath>>;

/** Prints a tool's result: its JSON with --json, its human text otherwise. */
export async function printToolResult(output: Output, tool: ToolName, result: unknown): Promise<void> {
  if (output.json) {
    output.data(result);
    return;
  }
  const { renderToolResult } = await import("./render/tools.ts");
  output.text(renderToolResult(tool, result));
}

export function createToolRunner(output: () => Output, paths: ToolPaths = {}) {
  return async (tool: ToolName, args: Record<string, unknown>, argv: ParsedArgs): Promise<void> => {
    const liveWriter = liveWriterFor(tool, argv);
    await withCliGateway(
      argv,
      TOOLS[tool].cli.command.join(" "),
      async ({ gateway, context }) => {
        const refusal = guardRefusal(tool, argv);
        if (refusal !== null) {
          const refused = await gateway.dispatcher.refuse(tool, args, context, refusal);
          throw refused.ok ? refusal : refused.error;
        }
        const call: ToolCall = { gateway, context, tool, args, argv, output: output() };
        if (await paths[tool]?.(call)) return;
        const outcome = await gateway.dispatch(tool, args, context);
        if (!outcome.ok) throw outcome.error;
        await printToolResult(call.output, tool, outcome.result);
      },
      liveWriter === undefined ? {} : { liveWriter },
    );
  };
}
