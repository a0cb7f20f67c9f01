// One place where CLI commands get their gateway: the configuration named by --config (or
// $IBKR_AGENT_CONFIG, or the safe defaults), the CLI front door, and whether a person sits at a terminal.
import type { Gateway } from "../gateway/index.ts";

export interface GatewayArgs {
  readonly config?: string;
}

/** True when a person is at an interactive terminal (gates that need a human check this). */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

export async function openCliGateway(args: GatewayArgs): Promise<Gateway> {
  const { composeGateway } = await import("../gateway/index.ts");
  return composeGateway({
    frontDoor: "cli",
    ...(typeof args.config === "string" && args.config !== "" ? { file: args.config } : {}),
  });
}
