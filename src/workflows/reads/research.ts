// Read tools of the research area (to be implemented).
import type { OperationHandler } from "../../core/call-context.ts";
import type { ReadDeps } from "./deps.ts";

export function researchReads(_deps: ReadDeps): Record<string, OperationHandler> {
  return {};
}
