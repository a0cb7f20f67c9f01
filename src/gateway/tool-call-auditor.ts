// Writes the one tool_call audit event of every call (design §6, principle 4). Inputs and outputs are
// recorded as keyed hashes only; the account a call was about is passed as account_id, which the store
// turns into its keyed hash and never stores raw.
import { isToolName, TOOLS } from "../../generated/tools/registry.gen.ts";
import { toWireError } from "../core/gateway-error.ts";
import { idempotencyKeyHash } from "../gates/index.ts";
import type { Store } from "../store/index.ts";
import type { ToolCallAuditor, ToolCallRecord } from "./dispatch.ts";

const TOOL_NAME = /^[a-z0-9_]{1,64}$/;

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
}

function accountOf(input: unknown): string | undefined {
  if (input === null || typeof input !== "object") return undefined;
  const value = (input as Record<string, unknown>).account_id;
  return typeof value === "string" && /^[A-Za-z0-9]{1,32}$/.test(value) ? value : undefined;
}

function relayMetadata(record: ToolCallRecord): Record<string, unknown> {
  const relay = record.relay;
  if (relay === null) return {};
  const unsafe = record.error?.details?.unsafe_key_path;
  // The sidecar answers what its dispatcher decided: the call's own outcome, sent right after this event.
  const answer = relay.side === "sidecar" ? (record.error === null ? "result" : "error") : relay.answer;
  return Object.fromEntries(
    Object.entries({
      relay_side: relay.side,
      relay_session_id: relay.relaySessionId,
      sidecar_id: relay.sidecarId,
      pairing_id: relay.pairingId,
      payload_hash: relay.payloadHash,
      relay_answer: answer,
      relay_round_trip_ms: relay.roundTripMs === undefined ? undefined : Math.round(relay.roundTripMs),
      relay_heartbeat_age_seconds: relay.heartbeatAgeSeconds,
      unsafe_key_path: typeof unsafe === "string" ? unsafe : undefined,
    }).filter(([, value]) => value !== undefined),
  );
}

/**
 * What the front door knows of the caller (CallContext.metadata) under the contract's tool_call names: the
 * CLI command path, or the MCP client's initialize name and the request's JSON-RPC id (client-chosen text,
 * which the store redacts and bounds like any untrusted metadata).
 */
const FRONT_DOOR_FACTS = ["cli_command", "mcp_client", "jsonrpc_id"] as const;

export function createToolCallAuditor(store: Store): ToolCallAuditor {
  return {
    async recordToolCall(record: ToolCallRecord): Promise<string> {
      const { context, error } = record;
      const known = isToolName(record.tool) ? TOOLS[record.tool] : null;
      const metadata: Record<string, unknown> = {
        duration_ms: Math.max(0, Math.round(record.durationMs)),
        broker_requests: record.brokerRequests,
      };
      if (known !== null) {
        metadata.required_scope = known.scope;
        metadata.tier = known.tier;
      }
      for (const name of FRONT_DOOR_FACTS) {
        const value = context.metadata?.[name];
        if (value !== undefined) metadata[name] = value;
      }
      // Write tools: the key as records and workflow events carry it, and whether this was a replay.
      const key = field(record.input, "idempotency_key");
      if (typeof key === "string" && key !== "") {
        metadata.idempotency_key_hash = idempotencyKeyHash(store, context.principal, key);
        if (error === null) metadata.idempotent_replay = field(record.output, "replayed") === true;
      }
      if (error !== null) {
        metadata.retryable = error.retryable;
        const reasons = error.details?.refusal_reasons;
        if (Array.isArray(reasons) && reasons.every((r) => typeof r === "string"))
          metadata.refusal_reasons = reasons;
      }
      // A relayed call: the relay facts of this side, so the two sides' events of one call can be matched
      // (same request id, same payload hash) without a second event per call.
      if (record.relay !== null) Object.assign(metadata, relayMetadata(record));
      const account = accountOf(record.input);
      const event = store.append({
        event_type: "tool_call",
        request_id: context.requestId,
        session_id: context.sessionId ?? context.requestId,
        principal: context.principal,
        front_door: context.frontDoor,
        decision: record.decision,
        result_status: record.resultStatus,
        // An unknown name is recorded only when it fits the tool-name pattern (the forbidden generic names do).
        tool: TOOL_NAME.test(record.tool) ? record.tool : "unknown_tool",
        scopes: [...context.scopes].sort(),
        ...(error !== null ? { error_code: error.code } : {}),
        ...(account !== undefined ? { account_id: account } : {}),
        input_hash: store.hashCanonical(record.input ?? null),
        output_hash: store.hashCanonical(error !== null ? toWireError(error) : (record.output ?? null)),
        metadata,
      });
      return event.event_id;
    },
  };
}
