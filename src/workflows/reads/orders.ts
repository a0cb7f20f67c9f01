// Read tools of the orders area (to be implemented).
import type { OperationHandler } from "../../core/call-context.ts";
import type { ReadDeps } from "./deps.ts";

export function ordersReads(_deps: ReadDeps): Record<string, OperationHandler> {
  return {};
}
