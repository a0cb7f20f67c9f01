// The order workflows in one place: previews, approvals, paper and live submits, brackets, modifies and
// cancels, with the crash recovery and reconciliation they share. Each returns its tool operations; the
// operator procedures (not tools) are returned beside them for the CLI and the SDK.
import type { OperationHandler } from "../../core/call-context.ts";
import { approvalOperations } from "./approvals.ts";
import { cancelOperations } from "./cancel.ts";
import type { OrderDeps } from "./deps.ts";
import { modifyOperations } from "./modify.ts";
import { previewOperations } from "./preview.ts";
import { createReconciler } from "./reconcile.ts";
import { createRecovery } from "./recovery.ts";
import { submitOperations } from "./submit.ts";

export type { ApprovalListing, ApprovalProcedures, ApprovalRequest } from "./approvals.ts";
export type { OrderDeps, OrderWriters } from "./deps.ts";
export type { ReconcileReport } from "./reconcile.ts";
export type { RecoveryReport } from "./recovery.ts";
export type {
  CancelAnswer,
  FoundOrder,
  ModifyRequest,
  OrderWriter,
  PlacedOrders,
  PlaceRequest,
  WriterKind,
} from "./writer.ts";
export { brokerWriter, localCandidateWriter, refusingWriter } from "./writer.ts";

export function orderWorkflows(deps: OrderDeps) {
  const recovery = createRecovery(deps);
  const reconciler = createReconciler(deps, recovery);
  const approvals = approvalOperations(deps);
  const operations: Record<string, OperationHandler> = {
    ...previewOperations(deps),
    ...approvals.operations,
    ...submitOperations(deps, recovery),
    ...modifyOperations(deps, recovery),
    ...cancelOperations(deps, recovery),
  };
  return { operations, approvals: approvals.procedures, recovery, reconciler };
}
