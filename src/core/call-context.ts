// The context of one tool call, as the front door builds it and every layer below reads it: who calls,
// through which door, with which scopes, under which request id. It lives in the bottom layer because the
// dispatcher (gateway), the gates and the workflows all take it.
import type { ScopeName } from "../../generated/scopes.gen.ts";
import type { OperationName, ToolName } from "../../generated/tools/registry.gen.ts";

export type FrontDoor = "cli" | "sdk" | "mcp_stdio" | "mcp_http" | "relay" | "system";

/** Who is calling and through which door; built by the front door, trusted by nothing downstream but the gates. */
export interface CallContext {
  readonly frontDoor: FrontDoor;
  /** Local user name or the token subject; never a token. */
  readonly principal: string;
  readonly scopes: ReadonlySet<ScopeName>;
  readonly requestId: string;
  readonly sessionId?: string;
  /** True only for a person at an interactive terminal (CLI with a TTY); gates that need a human check it. */
  readonly interactive?: boolean;
  /** Front-door facts worth auditing, e.g. the CLI command path or the MCP client name. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * The live order writer for this call (the CLI's --live-broker); absent: live_trading.writer from config.
   * It can only choose among the writers the gateway has; every gate still runs.
   */
  readonly liveWriter?: "broker" | "local_candidate" | "refusing";
}

/** What an operation receives besides its validated arguments. */
export interface OperationContext extends CallContext {
  readonly tool: ToolName;
  /** Counts broker requests for the audit event. */
  noteBrokerRequest(): void;
}

export type OperationHandler = (args: Record<string, unknown>, context: OperationContext) => Promise<unknown>;

/** Every workflow function of the contracts must be implemented: the map is exhaustive over OperationName. */
export type OperationHandlers = Record<OperationName, OperationHandler>;
