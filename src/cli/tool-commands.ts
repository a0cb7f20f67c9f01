// Mounts the generated per-tool yargs modules into the command tree. Tools whose command has two words
// (`accounts list`) are grouped under their first word; one-word commands (`health`) are mounted directly.
// Hand-written commands that share a word (`audit verify`) are mounted in the same group.
import type { Argv } from "yargs";
import { TOOL_COMMANDS, type ToolCommandRunner } from "../../generated/bindings/cli.gen.ts";
import { GROUP_DESCRIPTIONS } from "./tool-groups.ts";

/** Registers the tool commands of one command word, plus optional extra subcommands of that word. */
export function registerToolWord(
  yargs: Argv,
  word: string,
  run: ToolCommandRunner,
  extras?: (group: Argv) => void,
): Argv {
  const commands = TOOL_COMMANDS.filter((command) => command.path[0] === word);
  const single = commands.find((command) => command.path.length === 1);
  if (single !== undefined) return yargs.command(single.module(run));
  return yargs.command(word, GROUP_DESCRIPTIONS[word] ?? `${word} commands`, (sub) => {
    for (const command of commands) sub.command(command.module(run));
    extras?.(sub);
    return sub.demandCommand(1, `Name a ${word} subcommand; run ibkr-agent ${word} --help to see them.`);
  });
}

/** Every tool command at once (tests, and tools that list the whole tree). */
export function registerToolCommands(yargs: Argv, run: ToolCommandRunner): Argv {
  const words = [...new Set(TOOL_COMMANDS.map((command) => command.path[0] as string))];
  for (const word of words) registerToolWord(yargs, word, run);
  return yargs;
}
