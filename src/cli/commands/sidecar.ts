// `ibkr-agent sidecar ...`: the relay between a remote gateway and the Client Portal Gateway on a user's
// machine (docs/sidecar.md). Each subcommand lives in its own module:
//   pairing create|approve|list|revoke  the remote operator (sidecar-pairing.ts)
//   pair, unpair                        the sidecar owner (sidecar-pair.ts)
//   status                              either end (sidecar-status.ts)
//   run                                 the sidecar daemon (sidecar-run.ts)
import type { Argv } from "yargs";
import type { RegisterCommand } from "../command-table.ts";
import type { Output } from "../output.ts";
import { pairCommands } from "./sidecar-pair.ts";
import { pairingCommands } from "./sidecar-pairing.ts";
import { registerSidecarRun } from "./sidecar-run.ts";
import { statusCommand } from "./sidecar-status.ts";

/** Adds a subcommand to the sidecar group (the shape of `sidecar run`'s registration). */
export type SidecarSubcommand = (group: Argv, output: () => Output) => Argv;

export const SIDECAR_DESCRIPTION =
  "The sidecar relay: pair this machine's Client Portal Gateway with a remote gateway, run the relay, see its status";

const SUBCOMMANDS: readonly SidecarSubcommand[] = [
  pairingCommands,
  pairCommands,
  statusCommand,
  registerSidecarRun,
];

export function sidecarCommand(subcommands: readonly SidecarSubcommand[] = SUBCOMMANDS): RegisterCommand {
  return (yargs, output) => {
    yargs.command("sidecar", SIDECAR_DESCRIPTION, (group) => {
      let y = group;
      for (const add of subcommands) y = add(y, output);
      return y
        .epilogue(
          "Two machines: the remote gateway (broker.backend relay, serving remote MCP) issues and approves pairings; the user's machine pairs (`sidecar pair`) and runs the relay (`sidecar run`) beside its Client Portal Gateway. See docs/sidecar.md.",
        )
        .demandCommand(1, "Name a sidecar subcommand: pairing, pair, unpair, status or run.");
    });
  };
}
