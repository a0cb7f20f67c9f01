// The command module of one tool word (`accounts`, `market`, `health`, ...): the generated tool commands of
// that word, run through the gateway, plus what the word adds by hand (its own subcommands, extra flags and
// help, operator paths).
import type { RegisterCommand, WordExtension } from "../command-table.ts";
import { createToolRunner } from "../run-tool.ts";
import { registerToolWord } from "../tool-commands.ts";

export function toolGroupCommand(word: string, extension: WordExtension = {}): RegisterCommand {
  const { commands, adapt, paths } = extension;
  return (yargs, output) =>
    registerToolWord(
      yargs,
      word,
      createToolRunner(output, paths),
      commands === undefined ? undefined : (group) => commands(group, output),
      adapt,
    );
}
