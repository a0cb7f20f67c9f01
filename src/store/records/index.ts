// The order-side and relay tables, one module each.
export * from "./approvals.ts";
export * from "./backlog.ts";
export type { AccountMode } from "./common.ts";
export * from "./idempotency.ts";
export * from "./ledger.ts";
export * from "./operator.ts";
export * from "./previews.ts";
export * from "./safety.ts";
export * from "./sidecar.ts";
