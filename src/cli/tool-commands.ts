// Mounts the generated per-tool yargs modules into the command tree. Tools whose command has two words
// (`accounts list`) are grouped under their first word; one-word commands (`health`) are mounted directly.
import type { Argv, CommandModule } from "yargs";
import { type ParsedArgs, TOOL_COMMANDS, type ToolCommandRunner } from "../../generated/bindings/cli.gen.ts";

/** One line of help per command group, in the words a trader uses. */
const GROUP_DESCRIPTIONS: Record<string, string> = {
  account: "One account's summary and metadata",
  accounts: "Brokerage accounts of this login",
  approvals: "Approve order previews",
  audit: "The tamper-evident audit log",
  backend: "The broker backend",
  contracts: "Find and resolve tradable contracts",
  executions: "Executions (fills)",
  fundamentals: "Company fundamentals",
  fx: "Foreign-exchange rates",
  "kill-switch": "Stop all order submits and modifies",
  limits: "Live trading limits and their use today",
  market: "Quotes, bars, depth and trading calendars",
  news: "News headlines and articles",
  options: "Option chains and greeks",
  orders: "Preview, submit, modify, cancel and inspect orders",
  pnl: "Profit and loss",
  portfolio: "Portfolio snapshot",
  positions: "Positions",
  scanner: "Market scanners",
  session: "The broker session",
  transfers: "Deposits and withdrawals",
};

export function registerToolCommands(yargs: Argv, run: ToolCommandRunner): Argv {
  const groups = new Map<string, CommandModule<object, ParsedArgs>[]>();
  for (const command of TOOL_COMMANDS) {
    const module = command.module(run);
    if (command.path.length === 1) {
      yargs.command(module);
      continue;
    }
    const group = command.path[0] as string;
    groups.set(group, [...(groups.get(group) ?? []), module]);
  }
  for (const [group, modules] of groups) {
    yargs.command(group, GROUP_DESCRIPTIONS[group] ?? `${group} commands`, (sub) => {
      for (const module of modules) sub.command(module);
      return sub.demandCommand(1, `Name a ${group} subcommand; run ibkr-agent ${group} --help to see them.`);
    });
  }
  return yargs;
}
