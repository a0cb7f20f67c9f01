// The gateway layer's surface for the front doors.
export type { CallContext, FrontDoor } from "../core/call-context.ts";
export { recordGateway } from "../cpapi/recording/recorder.ts";
export type { VerifyReport } from "../store/index.ts";
export type { AuditEventView, AuditProcedures } from "../workflows/audit/index.ts";
export { createAuditProcedures } from "../workflows/audit/index.ts";
export type {
  ApprovalListing,
  CancelAnswer,
  FoundOrder,
  LivePrerequisite,
  LiveStatus,
  ModifyRequest,
  OperatorProof,
  OrderWriter,
  OrderWriters,
  PlacedOrders,
  PlaceRequest,
  ReconcileReport,
  RecoveryReport,
  WriterKind,
} from "../workflows/index.ts";
export { brokerWriter, localCandidateWriter, refusingWriter } from "../workflows/index.ts";
export { IN_PROCESS_SIMULATOR_URL } from "./broker.ts";
export type { Dispatcher, DispatchOutcome } from "./dispatch.ts";
export type { Gateway, GatewayOptions } from "./gateway.ts";
export { composeGateway, localPrincipal, requestId } from "./gateway.ts";
export type { ReconcileLoop } from "./reconcile-loop.ts";
export { startReconcileLoop } from "./reconcile-loop.ts";
