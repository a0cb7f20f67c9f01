// `ibkr-agent approvals ...`: create (the generated tool command; when approvals.require_human is set and a
// person is at a terminal, the operator path: review the stored preview, type the PIN, approve), list and
// revoke (operator procedures). From a pipe, a script or an agent, create stays the tool call, which refuses
// with APPROVAL_HUMAN_REQUIRED under require_human - audited like any refused call.
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../../generated/bindings/cli.gen.ts";
import { inputCheck } from "../../../generated/tools/checks.gen.ts";
import type { ToolInput } from "../../../generated/tools/registry.gen.ts";
import type { RegisterCommand, WordExtension } from "../command-table.ts";
import { extendCommand } from "../extend-command.ts";
import { withCliGateway } from "../open-gateway.ts";
import { operatorProof } from "../operator-pin.ts";
import type { Output } from "../output.ts";
import { reasonOf, reasonOption } from "../reason-flag.ts";
import { renderApprovalList, renderApprovalReview, renderRevoked } from "../render/orders/approvals.ts";
import { printToolResult, type ToolCall } from "../run-tool.ts";
import type { AdaptToolModule } from "../tool-commands.ts";

const CREATE_EPILOGUE = [
  "When the configuration sets approvals.require_human: true, only the operator can approve. Run the",
  "command yourself in an interactive terminal: it shows the preview (order, what-if, risk warnings, broker",
  "warning) and asks for the operator PIN without showing it. From a pipe, a script or an agent it refuses",
  "with APPROVAL_HUMAN_REQUIRED. Otherwise it approves like the ibkr_approvals_create tool.",
].join("\n");

/** The operator path of `approvals create`; false when the tool call applies instead. */
async function operatorApproval(call: ToolCall): Promise<boolean> {
  const { gateway, context, output } = call;
  if (!gateway.loaded.config.approvals.require_human || context.interactive !== true) return false;
  // Invalid arguments take the tool path, whose validation names the field.
  if (!(await inputCheck("ibkr_approvals_create"))(call.args)) return false;
  const input = call.args as ToolInput<"ibkr_approvals_create">;
  const review = gateway.procedures.approvals.previewForApproval(input.account_id, input.preview_id);
  output.note(renderApprovalReview(review, input.account_id, input.preview_id));
  const proof = await operatorProof(gateway, context);
  const approval = gateway.procedures.approvals.operatorApprove(context, proof, {
    accountId: input.account_id,
    previewId: input.preview_id,
    ...(input.ttl_seconds !== undefined ? { ttlSeconds: input.ttl_seconds } : {}),
    ...(input.acknowledged_question_ids !== undefined
      ? { acknowledgedQuestionIds: input.acknowledged_question_ids }
      : {}),
  });
  await printToolResult(output, "ibkr_approvals_create", approval);
  return true;
}

const adapt: AdaptToolModule = (command, module) =>
  command.tool !== "ibkr_approvals_create"
    ? module
    : extendCommand(module, {
        examples: [
          [
            "$0 approvals create --account DU1234567 --preview-id pv_01JD8X7Q2M3N4P5R6S",
            "Approve a preview for one submit (default lifetime 300 s)",
          ],
          [
            "$0 approvals create --account DU1234567 --preview-id pv_01JD8X7Q2M3N4P5R6S --acknowledge o163",
            "Also accept broker question o163 for this one order",
          ],
        ],
        epilogue: CREATE_EPILOGUE,
      });

async function list(argv: ParsedArgs, output: Output): Promise<void> {
  const approvals = await withCliGateway(argv, "approvals list", async ({ gateway }) =>
    gateway.procedures.approvals.list({
      ...(typeof argv.account === "string" ? { accountId: argv.account } : {}),
      ...(typeof argv.limit === "number" ? { limit: argv.limit } : {}),
    }),
  );
  if (output.json) output.data({ approvals });
  else output.text(renderApprovalList(approvals));
}

async function revoke(argv: ParsedArgs, output: Output): Promise<void> {
  const reason = reasonOf(argv);
  const result = await withCliGateway(argv, "approvals revoke", async ({ gateway, context }) =>
    gateway.procedures.approvals.revoke(context, String(argv["approval-id"]), reason),
  );
  if (output.json) output.data(result);
  else output.text(renderRevoked(result));
}

const commands: RegisterCommand = (group: Argv, output) => {
  group.command(
    "list",
    "List stored approvals, newest first, with their state (active, expired, consumed, revoked) and the order each covers",
    (y) =>
      y
        .option("account", { type: "string", describe: "Only approvals of this account" })
        .option("limit", { type: "number", describe: "At most this many approvals (newest first)" })
        .example("$0 approvals list", "Every stored approval")
        .example(
          "$0 approvals list --account DU1234567 --limit 10 --json",
          "The newest ten of one account, as JSON",
        ),
    (argv) => list(argv as ParsedArgs, output()),
  );
  group.command(
    "revoke <approval-id>",
    "Withdraw an active approval so no submit can use it; recorded in the audit log (no PIN needed: it only takes permission away)",
    (y) =>
      reasonOption(
        y.positional("approval-id", {
          type: "string",
          describe: "Id of the approval (ap_...), from approvals list",
        }),
        "Why it is withdrawn (3 to 500 characters), recorded in the audit log",
      ).example(
        '$0 approvals revoke ap_01JD8X7Q2M3N4P5R6S --reason "wrong quantity"',
        "Withdraw one approval",
      ),
    (argv) => revoke(argv as ParsedArgs, output()),
  );
};

export const approvalsExtension: WordExtension = {
  commands,
  adapt,
  paths: { ibkr_approvals_create: operatorApproval },
};
