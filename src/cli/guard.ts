// The guard flags of the order commands (--enable-preview, --enable-paper): a confirmation on top of the
// configuration, refused with the seed's codes when missing. The refusal is recorded through the dispatcher
// like any refused call, so the audit log sees the attempt.
import type { ParsedArgs } from "../../generated/bindings/cli.gen.ts";
import type { ErrorCode } from "../../generated/errors.gen.ts";
import { TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";

const GUARD_CODES: Readonly<Record<string, ErrorCode>> = {
  "enable-preview": "ORDER_PREVIEW_DISABLED",
  "enable-paper": "PAPER_TRADING_DISABLED",
};

/** The refusal for a command run without its guard flag, or null when the flag is there (or none is needed). */
export function guardRefusal(tool: ToolName, argv: ParsedArgs): GatewayError | null {
  const { guard, command } = TOOLS[tool].cli;
  if (guard === null || argv[guard] === true) return null;
  return new GatewayError(GUARD_CODES[guard] ?? "INPUT_INVALID_ARGUMENT", {
    message: `ibkr-agent ${command.join(" ")} needs --${guard} to confirm you mean it; nothing was sent.`,
    userAction: `Add --${guard} to the command.`,
    details: { field: guard },
  });
}
