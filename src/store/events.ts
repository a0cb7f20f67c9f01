// The audit event envelope of contracts/audit-events.yaml: validation of what a caller hands in, redaction,
// and the canonical payload the chain covers. Field names are the contract's (snake_case), because events
// are a storage and wire format, read back by tools and exports exactly as written.
import {
  AUDIT_ENUMS,
  AUDIT_ERROR_CODE_REQUIRED_FOR,
  AUDIT_EVENT_SPECS,
  AUDIT_SCHEMA_VERSION,
  type AuditEventType,
} from "../../generated/audit-events.gen.ts";
import { type ErrorCode, isErrorCode } from "../../generated/errors.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { canonicalJson } from "./jcs.ts";
import type { KeyGeneration } from "./keys.ts";
import { type Redaction, redact } from "./redaction.ts";

export type AuditDecision = (typeof AUDIT_ENUMS.decision)[number];
export type AuditResultStatus = (typeof AUDIT_ENUMS.result_status)[number];
export type AuditFrontDoor = (typeof AUDIT_ENUMS.front_door)[number];

/** Who and what an event belongs to; copied from the call that caused it. */
export interface AuditContext {
  readonly request_id: string;
  readonly session_id: string;
  readonly principal: string;
  readonly front_door: AuditFrontDoor;
}

export interface AuditEventInput extends AuditContext {
  readonly event_type: AuditEventType;
  readonly decision: AuditDecision;
  readonly result_status: AuditResultStatus;
  readonly tool?: string;
  readonly scopes?: readonly string[];
  readonly error_code?: ErrorCode;
  /** A raw account id; the store replaces it by its keyed hash (account_id_hash) and never stores it. */
  readonly account_id?: string;
  readonly account_id_hash?: string;
  readonly input_hash?: string;
  readonly output_hash?: string;
  /** Keys must be declared for the event type in the contract; values are redacted at any depth. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** An event as stored: the payload fields plus the chain fields. */
export interface AuditEventRecord {
  readonly event_id: string;
  readonly sequence: number;
  readonly schema_version: number;
  readonly event_type: AuditEventType;
  readonly timestamp: string;
  readonly key_id: string;
  readonly request_id: string;
  readonly session_id: string;
  readonly principal: string;
  readonly front_door: AuditFrontDoor;
  readonly tool?: string;
  readonly scopes?: readonly string[];
  readonly decision: AuditDecision;
  readonly result_status: AuditResultStatus;
  readonly error_code?: ErrorCode;
  readonly account_id_hash?: string;
  readonly input_hash?: string;
  readonly output_hash?: string;
  readonly redactions: readonly Redaction[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly prev_hash: string;
  readonly chain_hash: string;
}

/** Validated, redacted event content, still without the parts assigned inside the append transaction. */
export interface PreparedEvent {
  readonly fields: Record<string, unknown>;
  readonly event_type: AuditEventType;
  readonly request_id: string;
  readonly account_id_hash: string | null;
}

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const TOOL_PATTERN = /^[a-z0-9_]{1,64}$/;
const SCOPE_PATTERN = /^[A-Za-z0-9:._-]{1,128}$/;
const DIGEST = /^[0-9a-f]{64}$/;
const ERROR_CODE_REQUIRED = new Set<string>(AUDIT_ERROR_CODE_REQUIRED_FOR);
const FRONT_DOORS = new Set<string>(AUDIT_ENUMS.front_door);
const MAX_PRINCIPAL_CHARS = 256;
/** The contract's outcome model: deny is an authorisation no, refuse a gate or policy no, allow went ahead. */
const DECISION_STATUSES: Record<string, ReadonlySet<string>> = {
  allow: new Set(["completed", "failed", "uncertain", "authenticated"]),
  deny: new Set(["denied_scope", "denied_auth"]),
  refuse: new Set(["refused"]),
};
const OAUTH_PRINCIPAL = /^oauth:[0-9a-f]{64}$/;
/** relay:<sidecar id>: a gateway-derived id (contracts/audit-events.yaml principal), which long_base64 would eat. */
const RELAY_PRINCIPAL = /^relay:sidecar-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function invalid(message: string): GatewayError {
  // A malformed event is a programming error in the caller, never something a user can fix by retrying.
  return new GatewayError("INTERNAL_ERROR", { message: `Audit event refused: ${message}` });
}

export function isAuditEventType(value: string): value is AuditEventType {
  return Object.hasOwn(AUDIT_EVENT_SPECS, value);
}

/** The declared metadata keys of each event type as a set (checked on every append). */
const METADATA_KEYS = new Map<string, ReadonlySet<string>>(
  Object.entries(AUDIT_EVENT_SPECS).map(([type, spec]) => [type, new Set(spec.metadataKeys)]),
);

/** Checks an event against the catalogue and redacts it. Throws INTERNAL_ERROR for a malformed event. */
export function prepareEvent(input: AuditEventInput, keys: KeyGeneration): PreparedEvent {
  const type = input.event_type;
  if (typeof type !== "string" || !isAuditEventType(type)) {
    throw invalid(`unknown event type ${JSON.stringify(String(type)).slice(0, 80)}`);
  }
  const spec = AUDIT_EVENT_SPECS[type];
  if (!spec.decisions.includes(input.decision))
    throw invalid(`${type} cannot carry decision ${input.decision}`);
  if (!spec.resultStatuses.includes(input.result_status)) {
    throw invalid(`${type} cannot carry result_status ${input.result_status}`);
  }
  if (!(DECISION_STATUSES[input.decision]?.has(input.result_status) ?? false)) {
    throw invalid(`decision ${input.decision} cannot go with result_status ${input.result_status}`);
  }
  if (!FRONT_DOORS.has(input.front_door)) throw invalid(`unknown front_door ${input.front_door}`);
  for (const name of ["request_id", "session_id"] as const) {
    const value = input[name];
    if (typeof value !== "string" || !ID_PATTERN.test(value))
      throw invalid(`${name} is missing or malformed`);
  }
  if (typeof input.principal !== "string" || input.principal === "") throw invalid("principal is missing");

  const needsCode = ERROR_CODE_REQUIRED.has(input.result_status);
  if (needsCode && (input.error_code === undefined || !isErrorCode(input.error_code))) {
    throw invalid(`result_status ${input.result_status} needs a catalogue error_code`);
  }
  if (!needsCode && input.error_code !== undefined) {
    throw invalid(`result_status ${input.result_status} must not carry an error_code`);
  }

  if (input.account_id !== undefined && input.account_id_hash !== undefined) {
    throw invalid("give account_id or account_id_hash, not both");
  }
  const accountIdHash =
    input.account_id !== undefined ? keys.hashAccountId(String(input.account_id)) : input.account_id_hash;
  for (const [name, value] of [
    ["account_id_hash", accountIdHash],
    ["input_hash", input.input_hash],
    ["output_hash", input.output_hash],
  ] as const) {
    if (value !== undefined && !DIGEST.test(value))
      throw invalid(`${name} must be 64 lowercase hex characters`);
  }

  let scopes: string[] | undefined;
  if (input.scopes !== undefined) {
    if (
      !Array.isArray(input.scopes) ||
      input.scopes.some((s) => typeof s !== "string" || !SCOPE_PATTERN.test(s))
    ) {
      throw invalid("scopes must be a list of scope names");
    }
    scopes = [...new Set(input.scopes)].sort();
  }

  const present: Record<string, boolean> = {
    tool: input.tool !== undefined,
    scopes: scopes !== undefined,
    account_id_hash: accountIdHash !== undefined,
    input_hash: input.input_hash !== undefined,
    output_hash: input.output_hash !== undefined,
  };
  for (const field of spec.requiredFields) {
    if (!present[field]) throw invalid(`${type} requires ${field}`);
  }

  const metadataIn = input.metadata ?? {};
  if (metadataIn === null || typeof metadataIn !== "object" || Array.isArray(metadataIn)) {
    throw invalid("metadata must be an object");
  }
  const declared = METADATA_KEYS.get(type) as ReadonlySet<string>;
  const undeclared: string[] = [];
  for (const key of Object.keys(metadataIn)) {
    if (metadataIn[key] !== undefined && !declared.has(key)) undeclared.push(key);
  }
  if (undeclared.length > 0)
    throw invalid(`${type} does not declare metadata ${undeclared.sort().join(", ")}`);

  // oauth:<hex digest> principals are gateway-computed digests, which the long_hex rule would otherwise eat,
  // and relay:<sidecar id> names a sidecar by the id derived from its public key.
  const principal =
    OAUTH_PRINCIPAL.test(input.principal) || RELAY_PRINCIPAL.test(input.principal)
      ? { value: input.principal, redactions: [] }
      : redact(input.principal.slice(0, MAX_PRINCIPAL_CHARS), {
          path: "principal",
          hashAccountId: keys.hashAccountId,
        });
  const metadata = redact(metadataIn, {
    path: "metadata",
    hashAccountId: keys.hashAccountId,
    maxCharsByKey: spec.metadataMaxChars,
  });

  const fields: Record<string, unknown> = {
    schema_version: AUDIT_SCHEMA_VERSION,
    event_type: type,
    request_id: input.request_id,
    session_id: input.session_id,
    principal: principal.value,
    front_door: input.front_door,
    decision: input.decision,
    result_status: input.result_status,
    redactions: [...principal.redactions, ...metadata.redactions],
    metadata: metadata.value,
  };
  // Client-chosen tool names are stored only when they look like tool names (contract: else "invalid").
  if (input.tool !== undefined) fields.tool = TOOL_PATTERN.test(input.tool) ? input.tool : "invalid";
  if (scopes !== undefined) fields.scopes = scopes;
  if (input.error_code !== undefined) fields.error_code = input.error_code;
  if (accountIdHash !== undefined) fields.account_id_hash = accountIdHash;
  if (input.input_hash !== undefined) fields.input_hash = input.input_hash;
  if (input.output_hash !== undefined) fields.output_hash = input.output_hash;
  return { fields, event_type: type, request_id: input.request_id, account_id_hash: accountIdHash ?? null };
}

/** The canonical payload string the chain hashes: every envelope field except prev_hash and chain_hash. */
export function buildPayload(
  prepared: PreparedEvent,
  assigned: { event_id: string; sequence: number; timestamp: string; key_id: string },
): string {
  return canonicalJson({ ...prepared.fields, ...assigned });
}
