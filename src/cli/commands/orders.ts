// `ibkr-agent orders ...`: the generated order commands, with --live-broker and help added to the four live
// ones and examples on the preview and paper ones, plus `orders reconcile`, which settles abandoned pending
// writes and follows the orders the gateway placed once (the procedure a running MCP server repeats).
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../../generated/bindings/cli.gen.ts";
import type { ToolName } from "../../../generated/tools/registry.gen.ts";
import type { RegisterCommand, WordExtension } from "../command-table.ts";
import { type CommandExtension, extendCommand } from "../extend-command.ts";
import { isLiveWrite, liveBrokerOption } from "../live-broker.ts";
import { withCliGateway } from "../open-gateway.ts";
import type { Output } from "../output.ts";
import { renderReconcile } from "../render/orders/reconcile.ts";
import type { AdaptToolModule } from "../tool-commands.ts";

const LIVE_EPILOGUE =
  "From the command line a live write is a rehearsal unless you pass --live-broker client-portal: every live gate runs and the write is recorded (a submit uses up its approval), but nothing reaches the broker and the output says so. There is no flag that skips a gate.";

const EXAMPLES: Partial<Record<ToolName, CommandExtension["examples"]>> = {
  ibkr_order_preview: [
    [
      "$0 orders preview --enable-preview --account DU1234567 --symbol AAPL --side buy --quantity 10 --order-type limit --limit-price 190.50",
      "Preview a limit order; nothing is sent",
    ],
  ],
  ibkr_bracket_order_preview: [
    [
      "$0 orders bracket-preview --enable-preview --account DU1234567 --symbol AAPL --side buy --quantity 10 --entry-limit-price 190 --take-profit-limit-price 200 --stop-loss-stop-price 185",
      "Preview a bracket as one group",
    ],
  ],
  ibkr_paper_order_submit: [
    [
      "$0 orders submit --enable-paper --account DU1234567 --approval-id ap_01JD8X7Q2M3N4P5R6S --idempotency-key submit-001",
      "Submit an approved paper order",
    ],
  ],
  ibkr_paper_order_cancel: [
    [
      "$0 orders cancel --enable-paper --account DU1234567 --broker-order-id 1370093239 --idempotency-key cancel-001",
      "Cancel a working paper order",
    ],
  ],
  ibkr_live_order_submit: [
    [
      "$0 orders live-submit --account U1234567 --preview-id pv_01JD8X7Q2M3N4P5R6S --approval-id ap_01JD8X7Q2M3N4P5R6S --idempotency-key live-001",
      "Rehearse: every gate, nothing sent",
    ],
    [
      "$0 orders live-submit --account U1234567 --preview-id pv_01JD8X7Q2M3N4P5R6S --approval-id ap_01JD8X7Q2M3N4P5R6S --idempotency-key live-002 --live-broker client-portal",
      "Send it to the broker",
    ],
  ],
  ibkr_live_order_cancel: [
    [
      "$0 orders live-cancel --account U1234567 --broker-order-id 1370093239 --idempotency-key live-cancel-001 --live-broker client-portal",
      "Cancel a working live order at the broker",
    ],
  ],
};

const adapt: AdaptToolModule = (command, module) => {
  const examples = EXAMPLES[command.tool];
  if (!isLiveWrite(command.tool))
    return examples === undefined ? module : extendCommand(module, { examples });
  return extendCommand(module, {
    flags: liveBrokerOption,
    ...(examples !== undefined ? { examples } : {}),
    epilogue: LIVE_EPILOGUE,
  });
};

async function reconcile(argv: ParsedArgs, output: Output): Promise<void> {
  const report = await withCliGateway(argv, "orders reconcile", async ({ gateway, context }) =>
    gateway.procedures.reconciler.once({ kind: "call", context }),
  );
  if (output.json) output.data(report);
  else output.text(renderReconcile(report));
}

const commands: RegisterCommand = (group: Argv, output) => {
  group.command(
    "reconcile",
    "Settle order writes a crashed process left pending (looked up at the broker, never resubmitted) and poll every order the gateway follows once; prints what changed and what stayed unresolved",
    (y) =>
      y
        .example("$0 orders reconcile", "One pass, as text")
        .example("$0 orders reconcile --json", "The report as JSON")
        .epilogue(
          "Needs no PIN. Only one process reconciles at a time; a running MCP server also does it on its own every reconciler_interval_seconds.",
        ),
    (argv) => reconcile(argv as ParsedArgs, output()),
  );
};

export const ordersExtension: WordExtension = { commands, adapt };
