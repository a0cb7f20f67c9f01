// The background reconciler of a long-running front door (the MCP servers): every
// reconciler_interval_seconds it settles abandoned writes and follows the orders the gateway placed. Only
// one process of a profile polls at a time (the reconciler lease), so several servers and CLI commands side
// by side never double the broker traffic. A failed pass is logged and the next one tries again.
import type { Gateway } from "./gateway.ts";

export interface ReconcileLoop {
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

export function startReconcileLoop(gateway: Gateway): ReconcileLoop {
  const intervalMs = gateway.loaded.config.reconciler_interval_seconds * 1000;
  let running: Promise<void> | null = null;
  let stopped = false;
  const pass = async () => {
    const origin = {
      kind: "system" as const,
      context: { ...gateway.store.systemContext(), principal: "system:reconciler" },
    };
    try {
      const report = await gateway.procedures.reconciler.once(origin);
      if (report.changes.length > 0 || report.recovery.length > 0) {
        gateway.logger.info("reconciled orders", {
          changes: report.changes.length,
          settled: report.recovery.length,
          backlog: report.backlog,
        });
      }
    } catch (error) {
      gateway.logger.warn("reconciliation pass failed; the next one tries again", {
        code: (error as { code?: string }).code ?? "INTERNAL_ERROR",
      });
    }
  };
  const timer = setInterval(() => {
    if (stopped || running !== null) return;
    running = pass().finally(() => {
      running = null;
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (running !== null) await running;
    },
  };
}
