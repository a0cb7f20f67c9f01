// `ibkr-agent live status|arm|disarm`: live trading's arming, a persisted state that starts disarmed and that
// only the operator turns on (terminal and PIN) once every prerequisite of the configuration is met. status
// and disarm need no PIN: one only reads, the other only takes permission away.
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../../generated/bindings/cli.gen.ts";
import type { RegisterCommand } from "../command-table.ts";
import { withCliGateway } from "../open-gateway.ts";
import { operatorProof } from "../operator-pin.ts";
import type { Output } from "../output.ts";
import { reasonOf, reasonOption } from "../reason-flag.ts";
import { renderArmed, renderDisarmed, renderLiveStatus } from "../render/live.ts";

async function status(argv: ParsedArgs, output: Output): Promise<void> {
  const result = await withCliGateway(argv, "live status", async ({ gateway }) =>
    gateway.procedures.safety.liveStatus(),
  );
  if (output.json) output.data(result);
  else output.text(renderLiveStatus(result));
}

async function arm(argv: ParsedArgs, output: Output): Promise<void> {
  const reason = reasonOf(argv);
  const result = await withCliGateway(argv, "live arm", async ({ gateway, context }) =>
    gateway.procedures.safety.arm(context, await operatorProof(gateway, context), reason),
  );
  if (output.json) output.data(result);
  else output.text(renderArmed(result));
}

async function disarm(argv: ParsedArgs, output: Output): Promise<void> {
  const reason = reasonOf(argv);
  const result = await withCliGateway(argv, "live disarm", async ({ gateway, context }) =>
    gateway.procedures.safety.disarm(context, reason),
  );
  if (output.json) output.data(result);
  else output.text(renderDisarmed(result));
}

export const liveCommand: RegisterCommand = (yargs: Argv, output) => {
  yargs.command(
    "live",
    "Live trading's arming state and prerequisites; arm and disarm it (operator)",
    (live) =>
      live
        .command(
          "status",
          "Whether live trading is armed, the kill switch, and each live prerequisite of the configuration (live enabled, allowlist, policy, checklist, audit retention), met or not",
          (y) =>
            y
              .example("$0 live status", "A table of the prerequisites")
              .example("$0 live status --json", "The same as JSON")
              .epilogue("Needs no PIN and contacts no broker."),
          (argv) => status(argv as ParsedArgs, output()),
        )
        .command(
          "arm",
          "Arm live trading for the live configuration as it is now (operator: terminal and PIN); refused until every prerequisite is met and while the kill switch is engaged",
          (y) =>
            reasonOption(y, "Why it is armed (3 to 500 characters), recorded in the audit log")
              .example('$0 live arm --reason "checklist done; first live day"', "Arm after the checklist")
              .epilogue(
                "Needs a person at an interactive terminal (stdin and stdout) and the operator PIN, which it asks for without showing it; from a pipe, a script or an agent it refuses with APPROVAL_HUMAN_REQUIRED. Check first with ibkr-agent live status. Engaging the kill switch or changing the live configuration disarms it again.",
              ),
          (argv) => arm(argv as ParsedArgs, output()),
        )
        .command(
          "disarm",
          "Disarm live trading: live submits and modifies are refused until the operator arms it again (no PIN needed)",
          (y) =>
            reasonOption(y, "Why it is disarmed (3 to 500 characters), recorded in the audit log").example(
              '$0 live disarm --reason "end of the trading day"',
              "Disarm at the end of the day",
            ),
          (argv) => disarm(argv as ParsedArgs, output()),
        )
        .demandCommand(1, "Name a live subcommand: status, arm or disarm."),
  );
};
