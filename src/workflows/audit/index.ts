// The audit area's surface: the tool operations for the operation map, and the operator procedures the
// CLI's `audit` commands run (re-exported by the gateway layer, the front doors' only way in).
export type { AuditEventView } from "./events.ts";
export { auditOperations } from "./operations.ts";
export type {
  AnchorDestination,
  AnchorResult,
  AuditProcedures,
  BackupResult,
  ExportCheck,
  ExportRequest,
  FollowBatch,
  PurgeRequest,
  RotateKeyRequest,
  VerifyResult,
} from "./procedures.ts";
export { createAuditProcedures } from "./procedures.ts";
