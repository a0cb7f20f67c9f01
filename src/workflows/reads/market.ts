// Read tools of the market area (to be implemented).
import type { OperationHandler } from "../../core/call-context.ts";
import type { ReadDeps } from "./deps.ts";

export function marketReads(_deps: ReadDeps): Record<string, OperationHandler> {
  return {};
}
