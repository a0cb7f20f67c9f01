// The --reason flag of the operator commands: why the kill switch, an approval or live arming changes. It
// is recorded in the audit log, so it must say something (3 to 500 characters, as the engage tool's).
import type { Argv } from "yargs";
import type { ParsedArgs } from "../../generated/bindings/cli.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";

export function reasonOption(yargs: Argv, describe: string): Argv {
  return yargs.option("reason", { type: "string", describe, demandOption: true, requiresArg: true });
}

export function reasonOf(argv: ParsedArgs): string {
  const reason = typeof argv.reason === "string" ? argv.reason.trim() : "";
  if (reason.length < 3 || reason.length > 500) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "--reason must be 3 to 500 characters; it is recorded in the audit log.",
      userAction: 'Say why in a few words, for example --reason "end of the trading day".',
      details: { field: "reason" },
    });
  }
  return reason;
}
