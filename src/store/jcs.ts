// RFC 8785 (JCS) canonical JSON. The audit chain hashes the exact payload string, so the same event must
// always serialise to the same bytes, in every process and after every round trip through JSON.parse:
// keys sorted by UTF-16 code units, no whitespace, numbers and strings as ECMAScript JSON writes them.
import { GatewayError } from "../core/gateway-error.ts";

/** `"key":` of each key name seen, escaped once: payloads reuse a small vocabulary of keys. */
const PREFIXES = new Map<string, string>();
/** Client-chosen keys can be anything; a flood of distinct ones only empties the memo. */
const PREFIXES_LIMIT = 4096;

function memberPrefix(key: string): string {
  let prefix = PREFIXES.get(key);
  if (prefix === undefined) {
    prefix = `${JSON.stringify(key)}:`;
    if (PREFIXES.size >= PREFIXES_LIMIT) PREFIXES.clear();
    PREFIXES.set(key, prefix);
  }
  return prefix;
}

/** Canonical JSON of a JSON value. Throws for values JSON cannot carry (NaN, Infinity, bigint, functions). */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw notJson("a non-finite number");
      // ECMAScript Number-to-string is the JCS number format; -0 serialises as 0.
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === "function") return canonicalJson(withToJson.toJSON());
      // Plain loops and one string built as it goes: every audit payload and keyed hash passes through here.
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i += 1) {
          if (i > 0) out += ",";
          // A hole writes nothing between its commas, as Array.prototype.map and join leave it.
          if (i in value) out += canonicalJson(value[i] ?? null);
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = "{";
      for (let i = 0; i < keys.length; i += 1) {
        const key = keys[i] as string;
        const member = record[key];
        if (member === undefined) continue;
        if (out.length > 1) out += ",";
        out += memberPrefix(key);
        out += canonicalJson(member);
      }
      return `${out}}`;
    }
    default:
      throw notJson(`a ${typeof value}`);
  }
}

function notJson(what: string): GatewayError {
  return new GatewayError("INTERNAL_ERROR", { message: `Canonical JSON cannot encode ${what}.` });
}
