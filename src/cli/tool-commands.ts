// Mounts the generated per-tool yargs modules into the command tree. Tools whose command has two words
// (`accounts list`) are grouped under their first word; one-word commands (`health`) are mounted directly.
// Hand-written commands that share a word (`audit verify`) are mounted in the same group, and a word may
// adapt a generated module (extra flags, help) before it is mounted, so each command is registered once.
import type { Argv, CommandModule } from "yargs";
import {
  type ParsedArgs,
  TOOL_COMMANDS,
  type ToolCommand,
  type ToolCommandRunner,
} from "../../generated/bindings/cli.gen.ts";
import { GROUP_DESCRIPTIONS } from "./tool-groups.ts";

export type ToolModule = CommandModule<object, ParsedArgs>;

/** Changes a generated tool command before it is mounted; returns it unchanged when it has nothing to add. */
export type AdaptToolModule = (command: ToolCommand, module: ToolModule) => ToolModule;

/** Registers the tool commands of one command word, plus optional extra subcommands of that word. */
export function registerToolWord(
  yargs: Argv,
  word: string,
  run: ToolCommandRunner,
  extras?: (group: Argv) => void,
  adapt: AdaptToolModule = (_command, module) => module,
): Argv {
  const commands = TOOL_COMMANDS.filter((command) => command.path[0] === word);
  const single = commands.find((command) => command.path.length === 1);
  if (single !== undefined) return yargs.command(adapt(single, single.module(run)));
  return yargs.command(word, GROUP_DESCRIPTIONS[word] ?? `${word} commands`, (sub) => {
    for (const command of commands) sub.command(adapt(command, command.module(run)));
    extras?.(sub);
    return sub.demandCommand(1, `Name a ${word} subcommand; run ibkr-agent ${word} --help to see them.`);
  });
}

/** Every tool command at once (tests, and tools that list the whole tree). */
export function registerToolCommands(yargs: Argv, run: ToolCommandRunner, adapt?: AdaptToolModule): Argv {
  const words = [...new Set(TOOL_COMMANDS.map((command) => command.path[0] as string))];
  for (const word of words) registerToolWord(yargs, word, run, undefined, adapt);
  return yargs;
}
