// Adds flags and help to a generated tool command while keeping its own builder (the contract's flags) and
// handler: the hand-written part of a command is only what the contract cannot say (--live-broker,
// --cancel-open, that a path needs a terminal and the PIN, examples).
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../generated/bindings/cli.gen.ts";
import type { ToolModule } from "./tool-commands.ts";

export interface CommandExtension {
  readonly flags?: (yargs: Argv) => Argv;
  readonly examples?: readonly (readonly [command: string, description: string])[];
  /** Printed under the flags in the command's --help. */
  readonly epilogue?: string;
}

export function extendCommand(module: ToolModule, extension: CommandExtension): ToolModule {
  const builder = module.builder as (yargs: Argv) => Argv;
  return {
    ...module,
    builder: (yargs) => {
      let built = builder(yargs);
      if (extension.flags !== undefined) built = extension.flags(built);
      for (const [command, description] of extension.examples ?? [])
        built = built.example(command, description);
      if (extension.epilogue !== undefined) built = built.epilogue(extension.epilogue);
      return built as Argv<ParsedArgs>;
    },
  };
}
