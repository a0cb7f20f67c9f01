// The command module of one tool word (`accounts`, `market`, `health`, ...): the generated tool commands of
// that word, run through the gateway, plus the hand-written commands that share it.
import type { RegisterCommand } from "../command-table.ts";
import { createToolRunner } from "../run-tool.ts";
import { registerToolWord } from "../tool-commands.ts";

export function toolGroupCommand(word: string, extras?: RegisterCommand): RegisterCommand {
  return (yargs, output) =>
    registerToolWord(
      yargs,
      word,
      createToolRunner(output),
      extras === undefined ? undefined : (group) => extras(group, output),
    );
}
