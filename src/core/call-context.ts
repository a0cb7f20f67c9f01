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
  /**
   * Front-door facts the call's tool_call event records, under its metadata names: cli_command (the CLI),
   * mcp_client and jsonrpc_id (MCP).
   */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * The live order writer for this call (the CLI's --live-broker); absent: live_trading.writer from config.
   * It can only choose among the writers the gateway has; every gate still runs.
   */
  readonly liveWriter?: "broker" | "local_candidate" | "refusing";
  /** A call that crossed the sidecar relay: its relay facts, written into the call's one tool_call event. */
  readonly relay?: RelayCallFacts;
}

/**
 * What the relay knows of one call (docs/relay-protocol.md). The sidecar knows all of it before dispatch and
 * puts it in the call context; the remote learns it while forwarding and notes it on the operation context.
 */
export interface RelayCallFacts {
  readonly side: "remote" | "sidecar";
  readonly relaySessionId?: string;
  readonly sidecarId?: string;
  readonly pairingId?: string;
  /** The keyed payload hash both sides audit for the call. */
  readonly payloadHash?: string;
  /** Remote: what the sidecar answered; absent when no answer came (timeout, dropped session, not sent). */
  readonly answer?: "result" | "error";
  /** Remote: milliseconds from sending the call to the sidecar's answer. */
  readonly roundTripMs?: number;
  /** Remote: seconds since the sidecar's last message, when silence made the call fail. */
  readonly heartbeatAgeSeconds?: number;
}

/** What an operation receives besides its validated arguments. */
export interface OperationContext extends CallContext {
  readonly tool: ToolName;
  /** Counts broker requests for the audit event. */
  noteBrokerRequest(): void;
  /** Adds relay facts to the call's tool_call event (the relay backend's forwarder); merged over earlier ones. */
  noteRelay?(facts: RelayCallFacts): void;
}

export type OperationHandler = (args: Record<string, unknown>, context: OperationContext) => Promise<unknown>;

/** Every workflow function of the contracts must be implemented: the map is exhaustive over OperationName. */
export type OperationHandlers = Record<OperationName, OperationHandler>;
