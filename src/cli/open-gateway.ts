// One place where CLI commands get their gateway: the configuration named by --config (or
// $IBKR_AGENT_CONFIG, or the safe defaults), the CLI front door, and whether a person sits at a terminal.
import type { CallContext, Gateway } from "../gateway/index.ts";

export interface GatewayArgs {
  readonly config?: string;
}

/** True when a person is at an interactive terminal (gates that need a human check this). */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/** What a CLI call's context says of its caller: a person at a terminal or not, and the command path. */
export function cliCallFacts(command: string): Pick<CallContext, "interactive" | "metadata"> {
  return { interactive: isInteractive(), metadata: { cli_command: command } };
}

export async function openCliGateway(args: GatewayArgs): Promise<Gateway> {
  const { composeGateway } = await import("../gateway/index.ts");
  return composeGateway({
    frontDoor: "cli",
    ...(typeof args.config === "string" && args.config !== "" ? { file: args.config } : {}),
  });
}

export interface CliCall {
  readonly gateway: Gateway;
  readonly context: CallContext;
}

/** Opens the gateway for one command, runs `fn` with a context naming the command, and always closes it. */
export async function withCliGateway<T>(
  argv: { readonly config?: unknown },
  command: string,
  fn: (call: CliCall) => Promise<T>,
  overrides: Partial<Omit<CallContext, "frontDoor">> = {},
): Promise<T> {
  const gateway = await openCliGateway({
    ...(typeof argv.config === "string" ? { config: argv.config } : {}),
  });
  try {
    const context = gateway.context({ ...cliCallFacts(command), ...overrides });
    return await fn({ gateway, context });
  } finally {
    await gateway.close();
  }
}
