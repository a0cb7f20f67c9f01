// `ibkr-agent mcp serve`: the MCP server, over stdio for local agent clients (the default) or over
// Streamable HTTP (`--transport http`, mcp-http.ts). `--describe` prints what a client would get (backend,
// scopes, tools; for HTTP also the endpoint, mode and auth) and exits, which is how to check a client
// configuration or a deployment without starting anything.
import type { Argv } from "yargs";
import { TOOLS } from "../../../generated/tools/registry.gen.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import type { Output } from "../output.ts";
import { renderTable } from "../render/table.ts";

interface ServeArgs {
  transport: string;
  describe?: boolean;
  config?: string;
  bind?: string;
  "enable-remote-mcp"?: boolean;
}

async function serve(args: ServeArgs, output: Output): Promise<void> {
  if (args.transport === "http") {
    const { serveHttp } = await import("./mcp-http.ts");
    await serveHttp(
      {
        ...(args.bind !== undefined ? { bind: args.bind } : {}),
        enableRemoteMcp: args["enable-remote-mcp"] === true,
        describe: args.describe === true,
        ...(args.config ? { config: args.config } : {}),
      },
      output,
    );
    return;
  }
  if (args.transport !== "stdio") {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: `MCP transport ${args.transport} is not available; use --transport stdio or http.`,
      details: { field: "transport" },
    });
  }
  for (const flag of ["bind", "enable-remote-mcp"] as const) {
    if (args[flag] !== undefined) {
      throw new GatewayError("INPUT_INVALID_ARGUMENT", {
        message: `--${flag} belongs to --transport http; stdio has no address.`,
        userAction: `Add --transport http, or leave out --${flag}.`,
        details: { field: flag },
      });
    }
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
  return yargs.command("mcp", "Serve the tools to MCP clients (stdio or Streamable HTTP)", (mcp) =>
    mcp
      .command(
        "serve",
        "Serve MCP: stdio for local agent clients, or Streamable HTTP (local token, or OAuth for remote agents)",
        (y) =>
          y
            .option("transport", {
              type: "string",
              default: "stdio",
              choices: ["stdio", "http"],
              describe: "MCP transport",
            })
            .option("bind", {
              type: "string",
              describe:
                "HTTP: host:port to listen on (default remote_mcp.bind, 127.0.0.1:8080; port 0 picks one)",
            })
            .option("enable-remote-mcp", {
              type: "boolean",
              describe:
                "HTTP: allow remote MCP on a non-loopback address (also needs remote_mcp.enabled and safety.remote_mcp_enabled)",
            })
            .option("describe", {
              type: "boolean",
              describe:
                "Print what a client would get (backend, scopes, tools; for HTTP the endpoint, mode and auth), then exit",
            })
            .example("$0 mcp serve --transport stdio", "What an MCP client configuration runs")
            .example(
              "$0 mcp serve --transport http",
              "Local mode on 127.0.0.1:8080 with a token printed once",
            )
            .example("$0 mcp serve --describe --json", "Check what a client would see")
            .example("$0 mcp serve --transport http --describe", "The endpoint, mode, auth and tools")
            .example(
              "$0 mcp serve --transport http --enable-remote-mcp --bind 0.0.0.0:8443",
              "Remote mode for other machines (OAuth; see docs/remote-mcp.md)",
            ),
        (argv) => serve(argv as unknown as ServeArgs, output()),
      )
      .demandCommand(1, "Name an mcp subcommand: serve."),
  );
}
