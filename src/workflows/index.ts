// Every operation the contracts name, in one exhaustive map (a new operation fails to compile until it is
// implemented here). Each area contributes its handlers; the composition root builds the map once.
import { OPERATION_NAMES, type OperationName } from "../../generated/tools/registry.gen.ts";
import type { OperationHandler, OperationHandlers } from "../core/call-context.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { auditOperations } from "./audit/operations.ts";
import { accountReads } from "./reads/accounts.ts";
import type { ReadDeps } from "./reads/deps.ts";
import { depthReads } from "./reads/depth.ts";
import { marketReads } from "./reads/market.ts";
import { ordersReads } from "./reads/orders.ts";
import { portfolioReads } from "./reads/portfolio.ts";
import { researchReads } from "./reads/research.ts";
import { sessionReads } from "./reads/session.ts";

export type { BackendKind, Broker, Source } from "./broker.ts";
export { createAccountDirectory } from "./reads/account-directory.ts";
export type { ReadDeps } from "./reads/deps.ts";

export type WorkflowDeps = ReadDeps;

/** Order workflows arrive with the orders work; until then their tools refuse with the matching gate. */
function notYet(operation: OperationName): OperationHandler {
  if (operation.startsWith("reads.") || operation.startsWith("audit.") || operation.startsWith("safety.")) {
    return async () => {
      throw new GatewayError("INTERNAL_ERROR", { message: `${operation} is not implemented in this build.` });
    };
  }
  const code = operation.startsWith("live.")
    ? "LIVE_TRADING_DISABLED"
    : operation.startsWith("paper.") || operation === "approvals.create"
      ? "PAPER_TRADING_DISABLED"
      : "ORDER_PREVIEW_DISABLED";
  return async () => {
    throw new GatewayError(code, { details: { operation } });
  };
}

export function createOperations(deps: WorkflowDeps): OperationHandlers {
  const implemented: Partial<Record<OperationName, OperationHandler>> = {
    ...sessionReads(deps),
    ...accountReads(deps),
    ...portfolioReads(deps),
    ...marketReads(deps),
    ...depthReads(deps),
    ...ordersReads(deps),
    ...researchReads(deps),
    ...auditOperations(deps),
  };
  const handlers = {} as OperationHandlers;
  for (const name of OPERATION_NAMES) handlers[name] = implemented[name] ?? notYet(name);
  return handlers;
}
