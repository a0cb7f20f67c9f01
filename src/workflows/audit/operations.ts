// The audit tools (to be implemented).
import type { OperationHandler } from "../../core/call-context.ts";
import type { ReadDeps } from "../reads/deps.ts";

export function auditOperations(_deps: ReadDeps): Record<string, OperationHandler> {
  return {};
}
