// `ibkr-agent mcp serve --transport stdio`: the MCP server for local agent clients. `--describe` prints
// what a client would get (backend, scopes, tools) and exits, which is how to check a client configuration
// without starting an agent.
import type { Argv } from "yargs";
import { TOOLS } from "../../../generated/tools/registry.gen.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render/table.ts";

interface ServeArgs {
  transport: string;
  describe?: boolean;
  config?: string;
}

async function serve(args: ServeArgs, output: Output): Promise<void> {
  if (args.transport !== "stdio") {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `MCP transport ${args.transport} is not available; use --transport stdio.`,
      details: { field: "transport" },
    });
  }
  const { composeGateway } = await import("../../gateway/index.ts");
  const gateway = await composeGateway({
    frontDoor: "mcp_stdio",
    ...(args.config ? { file: args.config } : {}),
  });
  if (args.describe) {
    try {
      const tools = gateway.tools();
      const description = {
        transport: "stdio",
        backend: gateway.broker.source(),
        config: gateway.loaded.source,
        profile: gateway.loaded.paths.profile,
        scopes: [...gateway.localScopes].sort(),
        tools: tools.map((name) => ({ name, scope: TOOLS[name].scope, tier: TOOLS[name].tier })),
      };
      if (output.json) output.data(description);
      else {
        output.text(
          `MCP over stdio, backend ${description.backend.backend}${description.backend.simulated ? " (simulated)" : ""}`,
        );
        output.text(`Configuration: ${description.config}, profile ${description.profile}`);
        output.text(`Scopes: ${description.scopes.join(", ")}\n`);
        output.text(
          renderTable(description.tools, [
            { header: "TOOL", value: (t) => t.name },
            { header: "TIER", value: (t) => t.tier },
            { header: "SCOPE", value: (t) => t.scope },
          ]),
        );
      }
    } finally {
      await gateway.close();
    }
    return;
  }
  const [{ serveStdio }, { renderResult }, { PACKAGE_VERSION }] = await Promise.all([
    import("../../mcp/stdio.ts"),
    import("../render/result.ts"),
    import("../version.ts"),
  ]);
  await serveStdio({ gateway, version: PACKAGE_VERSION, renderText: renderResult });
}

export function mcpCommand(yargs: Argv, output: () => Output): Argv {
  return yargs.command("mcp", "Serve the tools to MCP clients", (mcp) =>
    mcp
      .command(
        "serve",
        "Serve MCP (stdio for local agent clients)",
        (y) =>
          y
            .option("transport", {
              type: "string",
              default: "stdio",
              choices: ["stdio"],
              describe: "MCP transport",
            })
            .option("describe", {
              type: "boolean",
              describe: "Print the backend, scopes and tools a client would get, then exit",
            })
            .example("$0 mcp serve --transport stdio", "What an MCP client configuration runs")
            .example("$0 mcp serve --describe --json", "Check what a client would see"),
        (argv) => serve(argv as unknown as ServeArgs, output()),
      )
      .demandCommand(1, "Name an mcp subcommand: serve."),
  );
}
