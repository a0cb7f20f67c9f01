// The SDK's entry point: `createGateway()` returns one typed method per tool (generated from the contracts)
// that runs through the same dispatcher, gates and audit as every other front door, and throws a
// GatewayError (recognise it by `code`) when a call fails. Dispose it (await using, or close()) to release
// the broker connection and the store.
import { bindToolMethods, type ToolMethods } from "../../generated/bindings/sdk.gen.ts";
import type { ScopeName } from "../../generated/scopes.gen.ts";
import type { ToolInput, ToolName, ToolOutput } from "../../generated/tools/registry.gen.ts";
import { redactConfig } from "../config/redact.ts";
import type { ApprovalListing, OrderWriters, ReconcileReport, VerifyReport } from "../gateway/index.ts";
import { composeGateway, type Gateway, type GatewayOptions } from "../gateway/index.ts";

export interface CreateGatewayOptions {
  /** Configuration file; default $IBKR_AGENT_CONFIG, else the safe defaults (simulator, read scopes). */
  readonly config?: string;
  /** State root; default $IBKR_AGENT_HOME, else ~/.ibkr-agent. */
  readonly home?: string;
  /** Environment to read secrets and defaults from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Recorded as the principal of every call (default local:<OS user>). */
  readonly principal?: string;
  /**
   * Your own order writers, used where the configuration says `writer: broker`: every gate, the idempotency
   * step and the audit still run in front of them (see docs/sdk.md, "Order writers").
   */
  readonly writers?: OrderWriters;
}

export interface IbkrGateway extends ToolMethods, AsyncDisposable {
  /** Calls a tool by name (what the typed methods do). */
  call<N extends ToolName>(name: N, input: ToolInput<N>): Promise<ToolOutput<N>>;
  /** Tools the configured scopes allow. */
  tools(): ToolName[];
  readonly scopes: readonly ScopeName[];
  /** Which broker answers, and whether it is simulated. */
  backend(): { backend: string; simulated: boolean };
  /** The effective configuration with secrets redacted. */
  config(): unknown;
  readonly audit: {
    /** Verifies the audit chain in one pass (no tool scope needed: it reads nothing but the log). */
    verify(): VerifyReport;
  };
  readonly approvals: {
    /** Approvals, newest first, optionally of one account (states active, expired, consumed, revoked). */
    list(filter?: { accountId?: string; limit?: number }): ApprovalListing[];
    /** Revokes an active approval (recorded); a later submit with it gets APPROVAL_REVOKED. */
    revoke(approvalId: string, reason: string): { approval_id: string; state: "revoked" };
  };
  readonly orders: {
    /** Settles abandoned pending writes and follows the placed orders once (what the MCP server does). */
    reconcile(): Promise<ReconcileReport>;
  };
  close(): Promise<void>;
}

/** The composed gateway behind each SDK gateway, for front doors mounted on it (createMcpHttpHandler). */
const composed = new WeakMap<IbkrGateway, Gateway>();

/** The composed gateway of an SDK gateway made by createGateway; throws for anything else. */
export function composedGateway(sdk: IbkrGateway): Gateway {
  const gateway = composed.get(sdk);
  if (gateway === undefined) throw new TypeError("expected a gateway made by createGateway()");
  return gateway;
}

/** Internal seam for tests and the front doors built on the SDK. */
export type SdkInternals = Partial<Pick<GatewayOptions, "clock" | "simulator" | "pacingProfile" | "sleep">>;

export async function createGateway(
  options: CreateGatewayOptions = {},
  internals: SdkInternals = {},
): Promise<IbkrGateway> {
  const gateway = await composeGateway({
    frontDoor: "sdk",
    ...(options.config !== undefined ? { file: options.config } : {}),
    ...(options.home !== undefined ? { home: options.home } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.principal !== undefined ? { principal: options.principal } : {}),
    ...(options.writers !== undefined ? { writers: options.writers } : {}),
    ...internals,
  });
  const call = async <N extends ToolName>(name: N, input: ToolInput<N>): Promise<ToolOutput<N>> => {
    const outcome = await gateway.dispatch(name, input ?? {});
    if (!outcome.ok) throw outcome.error;
    return outcome.result as ToolOutput<N>;
  };
  const sdk: IbkrGateway = {
    ...bindToolMethods(call),
    call,
    tools: () => gateway.tools(),
    scopes: [...gateway.localScopes].sort(),
    backend: () => gateway.broker.source(),
    config: () => redactConfig(gateway.loaded.config),
    audit: { verify: () => gateway.store.verify() },
    approvals: {
      list: (filter) => gateway.procedures.approvals.list(filter),
      revoke: (approvalId, reason) =>
        gateway.procedures.approvals.revoke(gateway.context(), approvalId, reason),
    },
    orders: {
      reconcile: () => gateway.procedures.reconciler.once({ kind: "call", context: gateway.context() }),
    },
    close: () => gateway.close(),
    [Symbol.asyncDispose]: () => gateway.close(),
  };
  composed.set(sdk, gateway);
  return sdk;
}
