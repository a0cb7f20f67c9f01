// The configuration as it may be shown or hashed: values under sensitive keys are replaced. `*_env` keys
// stay, since a variable's name is what an operator needs to see; the variables' values are never in the
// config object in the first place. The same form feeds the audit's config_hash, so the hash never
// depends on a secret either.
import { genericPath, isSensitiveKey, SECRET_CONTAINERS } from "./literals.ts";
import type { PathSegment } from "./problems.ts";

export const REDACTED = "[REDACTED]";

export function redactConfig<T>(value: T): T {
  const visit = (node: unknown, segments: PathSegment[]): unknown => {
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...segments, index]));
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(
        Object.entries(node).map(([key, child]) => {
          const path = [...segments, key];
          const hidden =
            isSensitiveKey(key) &&
            !SECRET_CONTAINERS.has(genericPath(path)) &&
            child !== undefined &&
            child !== null;
          return [key, hidden ? REDACTED : visit(child, path)];
        }),
      );
    }
    return node;
  };
  return visit(value, []) as T;
}
