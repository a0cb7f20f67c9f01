// Named points in an order write where a test can make the process die at once (SIGKILL, no clean-up), to
// prove that a crash at any step leaves exactly one broker order or none, an idempotency record that recovery
// settles, and an intact audit chain. Off unless IBKR_AGENT_CRASH_AT names the point; a crash is all it can
// cause, so the variable grants nothing to whoever sets it.
export const CRASH_POINTS = [
  "before_pending",
  "after_pending",
  "after_broker_accepted",
  "before_completion",
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export function crashPoint(point: CrashPoint): void {
  if (process.env.IBKR_AGENT_CRASH_AT === point) process.kill(process.pid, "SIGKILL");
}
