// Read tools of the portfolio area (to be implemented).
import type { OperationHandler } from "../../core/call-context.ts";
import type { ReadDeps } from "./deps.ts";

export function portfolioReads(_deps: ReadDeps): Record<string, OperationHandler> {
  return {};
}
