// Every top-level command word with its one-line help and the module that implements it. main.ts imports
// only the module of the word the user typed, which keeps startup fast. Tool commands (accounts, market,
// orders, ...) come from the generated bindings and are listed here by their command word.
import type { Argv } from "yargs";
import type { Output } from "./output.ts";
import type { ToolPaths } from "./run-tool.ts";
import type { AdaptToolModule } from "./tool-commands.ts";
import { GROUP_DESCRIPTIONS, TOOL_WORDS } from "./tool-groups.ts";

export type RegisterCommand = (yargs: Argv, output: () => Output) => void;

export interface CommandEntry {
  readonly name: string;
  readonly describe: string;
  readonly load: () => Promise<RegisterCommand>;
}

/** What a tool word adds by hand: its own subcommands, flags and help on generated ones, operator paths. */
export interface WordExtension {
  readonly commands?: RegisterCommand;
  readonly adapt?: AdaptToolModule;
  readonly paths?: ToolPaths;
}

const WORD_EXTENSIONS: Readonly<Record<string, () => Promise<WordExtension>>> = {
  audit: async () => ({ commands: (await import("./commands/audit.ts")).auditCommands }),
  approvals: async () => (await import("./commands/approvals.ts")).approvalsExtension,
  "kill-switch": async () => (await import("./commands/kill-switch.ts")).killSwitchExtension,
  orders: async () => (await import("./commands/orders.ts")).ordersExtension,
};

const TOOL_ENTRIES: readonly CommandEntry[] = TOOL_WORDS.map((word) => ({
  name: word,
  describe: GROUP_DESCRIPTIONS[word] ?? `${word} commands`,
  load: async () => {
    const { toolGroupCommand } = await import("./commands/tool-group.ts");
    const extension = WORD_EXTENSIONS[word];
    return toolGroupCommand(word, extension === undefined ? {} : await extension());
  },
}));

export const COMMAND_TABLE: readonly CommandEntry[] = [
  {
    name: "tour",
    describe: "Start here: a guided tour on the built-in simulator (nothing reaches IBKR)",
    load: async () => (await import("./commands/tour.ts")).tourCommand,
  },
  ...TOOL_ENTRIES,
  {
    name: "live",
    describe: "Live trading's arming state and prerequisites; arm and disarm it (operator)",
    load: async () => (await import("./commands/live.ts")).liveCommand,
  },
  {
    name: "mcp",
    describe: "Serve the tools to MCP clients (stdio, or Streamable HTTP with a local token or OAuth)",
    load: async () => (await import("./commands/mcp.ts")).mcpCommand,
  },
  {
    name: "sidecar",
    describe:
      "The sidecar relay: pair with a remote gateway, run the relay, pairing status (docs/sidecar.md)",
    load: async () => (await import("./commands/sidecar.ts")).sidecarCommand(),
  },
  {
    name: "simulator",
    describe: "Run the simulated Client Portal Gateway over HTTPS (no IBKR account needed)",
    load: async () => (await import("./commands/simulator.ts")).simulatorCommand,
  },
  {
    name: "record",
    describe: "Record redacted read-only answers of a real Client Portal Gateway as wire fixtures",
    load: async () => (await import("./commands/record.ts")).recordCommand,
  },
  {
    name: "tools",
    describe: "List tools, how to call them, export their definitions",
    load: async () => (await import("./commands/tools.ts")).toolsCommand,
  },
  {
    name: "config",
    describe: "Create, check and show the configuration file",
    load: async () => (await import("./commands/config.ts")).configCommand,
  },
];
