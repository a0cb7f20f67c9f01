// `ibkr-agent kill-switch ...`: status and engage are the generated tool commands (an agent may engage the
// switch too); `engage --cancel-open` and `release` are operator procedures that need a person at an
// interactive terminal with the operator PIN: only the operator may pull every working order (protective
// stops included) or let orders through again.
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../../generated/bindings/cli.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import type { RegisterCommand, WordExtension } from "../command-table.ts";
import { extendCommand } from "../extend-command.ts";
import { withCliGateway } from "../open-gateway.ts";
import { operatorProof } from "../operator-pin.ts";
import type { Output } from "../output.ts";
import { reasonOf, reasonOption } from "../reason-flag.ts";
import { renderKillSwitchReleased } from "../render/kill-switch.ts";
import { printToolResult, type ToolCall } from "../run-tool.ts";
import type { AdaptToolModule } from "../tool-commands.ts";

const OPERATOR_ONLY =
  "Needs a person at an interactive terminal (stdin and stdout) and the operator PIN, which it asks for without showing it; from a pipe, a script or an agent it refuses with APPROVAL_HUMAN_REQUIRED.";

/** `kill-switch engage --cancel-open`: engage and cancel every working order; false without the flag. */
async function engageAndCancel(call: ToolCall): Promise<boolean> {
  if (call.argv["cancel-open"] !== true) return false;
  const { gateway, context, output } = call;
  const reason = reasonOf(call.argv);
  const proof = await operatorProof(gateway, context);
  const operation: OperationContext = {
    ...context,
    tool: "ibkr_kill_switch_engage",
    noteBrokerRequest: () => undefined,
  };
  const result = await gateway.procedures.safety.engageAndCancelOpen(operation, proof, reason);
  await printToolResult(output, "ibkr_kill_switch_engage", result);
  return true;
}

const adapt: AdaptToolModule = (command, module) => {
  if (command.tool === "ibkr_kill_switch_engage") {
    return extendCommand(module, {
      flags: (y) =>
        y.option("cancel-open", {
          type: "boolean",
          describe:
            "Also ask the broker to cancel every working order of every account of this login, protective stops included (operator only: terminal and PIN)",
        }),
      examples: [
        [
          '$0 kill-switch engage --reason "unexpected orders on DU1234567"',
          "Stop every submit and modify now",
        ],
        [
          '$0 kill-switch engage --reason "flatten everything" --cancel-open',
          "Also cancel every working order (operator, asks for the PIN)",
        ],
      ],
      epilogue:
        "Without --cancel-open anyone with the ibkr:safety:engage scope may engage it, agents included, and nothing is sent to the broker. --cancel-open needs a person at an interactive terminal (stdin and stdout) and the operator PIN, which it asks for without showing it; from a pipe, a script or an agent it refuses with APPROVAL_HUMAN_REQUIRED. Only the operator can release the switch: ibkr-agent kill-switch release.",
    });
  }
  if (command.tool === "ibkr_kill_switch_status") {
    return extendCommand(module, {
      examples: [["$0 kill-switch status --json", "The state as JSON"]],
      epilogue: "Release it (operator): ibkr-agent kill-switch release --reason TEXT.",
    });
  }
  return module;
};

async function release(argv: ParsedArgs, output: Output): Promise<void> {
  const reason = reasonOf(argv);
  const result = await withCliGateway(argv, "kill-switch release", async ({ gateway, context }) =>
    gateway.procedures.safety.release(context, await operatorProof(gateway, context), reason),
  );
  if (output.json) output.data(result);
  else output.text(renderKillSwitchReleased(result));
}

const commands: RegisterCommand = (group: Argv, output) => {
  group.command(
    "release",
    "Release the kill switch so order submits and modifies run through their normal gates again (operator: terminal and PIN); live trading stays disarmed",
    (y) =>
      reasonOption(y, "Why it is released (3 to 500 characters), recorded in the audit log")
        .example('$0 kill-switch release --reason "reviewed the orders; all fine"', "Release it after review")
        .epilogue(`${OPERATOR_ONLY} Find out first why it was engaged: ibkr-agent kill-switch status.`),
    (argv) => release(argv as ParsedArgs, output()),
  );
};

export const killSwitchExtension: WordExtension = {
  commands,
  adapt,
  paths: { ibkr_kill_switch_engage: engageAndCancel },
};
