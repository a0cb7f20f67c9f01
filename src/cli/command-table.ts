// Every top-level command word with its one-line help and the module that implements it. main.ts imports
// only the module of the word the user typed, which keeps startup fast. Tool commands (accounts, market,
// orders, ...) come from the generated bindings and are listed here by their group word.
import type { Argv } from "yargs";
import type { Output } from "./output.ts";

export type RegisterCommand = (yargs: Argv, output: () => Output) => void;

export interface CommandEntry {
  readonly name: string;
  readonly describe: string;
  readonly load: () => Promise<RegisterCommand>;
}

export const COMMAND_TABLE: readonly CommandEntry[] = [
  {
    name: "simulator",
    describe: "Run the simulated Client Portal Gateway over HTTPS (no IBKR account needed)",
    load: async () => (await import("./commands/simulator.ts")).simulatorCommand,
  },
  {
    name: "tools",
    describe: "List the tools the gateway offers and how to call them",
    load: async () => (await import("./commands/tools.ts")).toolsCommand,
  },
  {
    name: "config",
    describe: "Create, check and show the configuration file",
    load: async () => (await import("./commands/config.ts")).configCommand,
  },
];
