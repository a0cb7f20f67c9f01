// A garbled answer (control API garbleNextResponse): well-formed JSON, HTTP 200, that no client following
// the contract can accept - the drift a gateway upgrade or a proxy in between could bring. It is derived
// from the operation's own 200 schema rather than hand-written per endpoint: a value of a JSON kind the
// schema does not admit at its top level (an array where an object is declared, an object for an array,
// a bare string for an operation that answers either). The marker text lets a test prove the body never
// reaches a user-facing message, a log or the audit store.
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";

/** The text every garbled answer carries. */
export const GARBLED_MARKER = "simulator-garbled-answer";

type Kind = "object" | "array" | "string" | "number" | "boolean" | "null";

/** Candidates, in the order tried: the first whose kind the schema does not admit is the answer. */
const CANDIDATES: readonly (readonly [Kind, unknown])[] = [
  ["array", [GARBLED_MARKER]],
  ["object", { garbled: GARBLED_MARKER }],
  ["string", GARBLED_MARKER],
];

/** The JSON kinds a schema admits at its top level; null when it admits any (no type anywhere). */
function admitted(schema: unknown): Set<Kind> | null {
  if (schema === null || typeof schema !== "object") return null;
  const s = schema as { type?: string | string[]; anyOf?: unknown[]; oneOf?: unknown[] };
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    return new Set(types.map((t) => (t === "integer" ? "number" : t) as Kind));
  }
  const members = s.anyOf ?? s.oneOf;
  if (members === undefined) return null;
  const kinds = new Set<Kind>();
  for (const member of members) {
    const inner = admitted(member);
    if (inner === null) return null;
    for (const kind of inner) kinds.add(kind);
  }
  return kinds;
}

/**
 * The garbled 200 answer of an operation, or undefined when its contract admits any JSON at all (nothing
 * well-formed could break it).
 */
export function garbledAnswer(operation: CpapiOperationSpec): unknown {
  const kinds = admitted(operation.responses["200"]);
  if (kinds === null) return undefined;
  return CANDIDATES.find(([kind]) => !kinds.has(kind))?.[1];
}
