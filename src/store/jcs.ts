// RFC 8785 (JCS) canonical JSON. The audit chain hashes the exact payload string, so the same event must
// always serialise to the same bytes, in every process and after every round trip through JSON.parse:
// keys sorted by UTF-16 code units, no whitespace, numbers and strings as ECMAScript JSON writes them.
import { GatewayError } from "../core/gateway-error.ts";

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
      if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      let out = "{";
      for (let i = 0; i < keys.length; i += 1) {
        const key = keys[i] as string;
        if (i > 0) out += ",";
        out += `${JSON.stringify(key)}:${canonicalJson(record[key])}`;
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
