// The store's public surface: openStore and the pieces other layers reuse (redaction, canonical JSON, key
// derivation for hashing outside a store, the event and report types).

export type { CheckpointRow, StoreLog } from "./audit-core.ts";
export type { ExportFilter, ExportManifest, ExportVerification } from "./audit-export.ts";
export { manifestPathFor } from "./audit-export.ts";
export type {
  AnchorRecordOptions,
  PurgeOptions,
  PurgeResult,
  RotateKeyOptions,
  RotationResult,
} from "./audit-maintenance.ts";
export { formatAnchor, parseAnchor } from "./audit-maintenance.ts";
export type { Anchor, BreakKind, VerifiedTail, VerifyOptions, VerifyReport } from "./audit-verify.ts";
export { chainInvalidError, verificationMetadata } from "./audit-verify.ts";
export type {
  AuditContext,
  AuditDecision,
  AuditEventInput,
  AuditEventRecord,
  AuditFrontDoor,
  AuditResultStatus,
} from "./events.ts";
export { isAuditEventType } from "./events.ts";
export { canonicalJson } from "./jcs.ts";
export type { KeyGeneration } from "./keys.ts";
export { deriveKeys, MIN_SECRET_BYTES } from "./keys.ts";
export { LATEST_SCHEMA_VERSION } from "./migrations.ts";
export type * from "./records/index.ts";
export type { Redaction, RedactOptions, RedactResult } from "./redaction.ts";
export { findRawAccountIds, findSecrets, redact } from "./redaction.ts";
export type { Store, StoreOptions, StoreSecrets } from "./store.ts";
export { openStore } from "./store.ts";
