// Every operation the contracts name, in one exhaustive map (a new operation fails to compile until it is
// implemented here), plus the operator procedures that are not tools. The composition root builds it once.
import { OPERATION_NAMES, type OperationName } from "../../generated/tools/registry.gen.ts";
import type { OperationHandler, OperationHandlers } from "../core/call-context.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { auditOperations } from "./audit/operations.ts";
import { type OrderWriters, orderWorkflows } from "./orders/index.ts";
import { accountReads } from "./reads/accounts.ts";
import type { ReadDeps } from "./reads/deps.ts";
import { depthReads } from "./reads/depth.ts";
import { createMarketBooks, marketReads } from "./reads/market.ts";
import { ordersReads } from "./reads/orders.ts";
import { portfolioReads } from "./reads/portfolio.ts";
import { researchReads } from "./reads/research.ts";
import { sessionReads } from "./reads/session.ts";
import { safetyOperations } from "./safety.ts";

export type { BackendKind, Broker, Source } from "./broker.ts";
export type { OperatorProof } from "./operator.ts";
export type {
  ApprovalListing,
  ApprovalProcedures,
  CancelAnswer,
  FoundOrder,
  ModifyRequest,
  OrderWriter,
  OrderWriters,
  PlacedOrders,
  PlaceRequest,
  ReconcileReport,
  RecoveryReport,
  WriterKind,
} from "./orders/index.ts";
export { brokerWriter, localCandidateWriter, refusingWriter } from "./orders/index.ts";
export { createAccountDirectory } from "./reads/account-directory.ts";
export type { ReadDeps } from "./reads/deps.ts";
export type { LivePrerequisite, LiveStatus, SafetyProcedures } from "./safety.ts";

export interface WorkflowDeps extends ReadDeps {
  /** Writers an embedding application supplies in place of the CPAPI writer. */
  readonly writers?: OrderWriters;
}

export function createWorkflows(deps: WorkflowDeps) {
  const books = createMarketBooks(deps);
  const market = marketReads(deps, books);
  const snapshot = market["reads.marketSnapshot"] as OperationHandler;
  const orderDeps = { ...deps, books, snapshot, writers: deps.writers ?? {} };
  const orders = orderWorkflows(orderDeps);
  const safety = safetyOperations(orderDeps);
  const implemented: Partial<Record<OperationName, OperationHandler>> = {
    ...sessionReads(deps),
    ...accountReads(deps),
    ...portfolioReads(deps),
    ...market,
    ...depthReads(deps),
    ...ordersReads(deps),
    ...researchReads(deps),
    ...auditOperations(deps),
    ...orders.operations,
    ...safety.operations,
  };
  const operations = {} as OperationHandlers;
  for (const name of OPERATION_NAMES) {
    const handler = implemented[name];
    if (handler === undefined) {
      throw new GatewayError("INTERNAL_ERROR", { message: `Operation ${name} has no implementation.` });
    }
    operations[name] = handler;
  }
  return {
    operations,
    procedures: {
      approvals: orders.approvals,
      safety: safety.procedures,
      recovery: orders.recovery,
      reconciler: orders.reconciler,
    },
  };
}

export type Workflows = ReturnType<typeof createWorkflows>;
export type WorkflowProcedures = Workflows["procedures"];

/** The operations alone (tests and tools that need no procedures). */
export function createOperations(deps: WorkflowDeps): OperationHandlers {
  return createWorkflows(deps).operations;
}
