// Audit event model: contracts/audit-events.yaml -> generated/audit-events.gen.ts. Emits the event-type union,
// the envelope field list, per-type metadata keys and the redaction rules the store applies, so the audit
// writer and the reference docs read one definition.
import type { Contracts } from "../contracts.ts";
import { type GeneratedFile, literal } from "../emit.ts";
import { sortKeys } from "../schema.ts";

export const AUDIT_EVENTS_OUTPUT = "generated/audit-events.gen.ts";

export function generateAuditEvents(contracts: Contracts): GeneratedFile[] {
  const { schema_version, error_code_required_for, fields, event_types, enums, redaction } =
    contracts.auditEvents;
  const types = [...event_types].sort((a, b) => a.name.localeCompare(b.name));
  const content = `
/** Version of the catalogue new events are written under (the envelope's schema_version). */
export const AUDIT_SCHEMA_VERSION = ${literal(schema_version)};

/** result_status values that require error_code (and forbid it on the others). */
export const AUDIT_ERROR_CODE_REQUIRED_FOR = ${literal(error_code_required_for)} as const;

export const AUDIT_EVENT_TYPES = ${literal(types.map((type) => type.name))} as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditFieldSpec {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
}

/** Envelope fields every event carries, in storage order. */
export const AUDIT_FIELDS: readonly AuditFieldSpec[] = ${literal(
    fields.map((field) => ({
      name: field.name,
      type: field.type,
      required: field.required ?? false,
      description: field.description,
    })),
  )};

export interface AuditEventSpec {
  readonly category: string;
  readonly description: string;
  readonly decisions: readonly string[];
  readonly resultStatuses: readonly string[];
  readonly requiredFields: readonly string[];
  readonly metadataKeys: readonly string[];
  /** Per-key length limits for untrusted text (max_chars), applied by redaction instead of the global limit. */
  readonly metadataMaxChars: Readonly<Record<string, number>>;
}

export const AUDIT_EVENT_SPECS: Record<AuditEventType, AuditEventSpec> = ${literal(
    Object.fromEntries(
      types.map((type) => [
        type.name,
        {
          category: type.category,
          description: type.description,
          decisions: type.decision ?? [],
          resultStatuses: type.result_status ?? [],
          requiredFields: type.fields ?? [],
          metadataKeys: (type.metadata ?? []).map((entry) => entry.name),
          metadataMaxChars: Object.fromEntries(
            (type.metadata ?? [])
              .filter((entry) => entry.max_chars !== undefined)
              .map((entry) => [entry.name, entry.max_chars]),
          ),
        },
      ]),
    ),
  )};

export const AUDIT_ENUMS = ${literal(sortKeys(enums))} as const;

/** Redaction rules applied to every payload before it is hashed and stored. */
export const AUDIT_REDACTION = ${literal(sortKeys(redaction))} as const;
`;
  return [
    {
      path: AUDIT_EVENTS_OUTPUT,
      content,
      generator: "codegen/generators/audit-events.ts",
      sources: ["contracts/audit-events.yaml"],
    },
  ];
}
