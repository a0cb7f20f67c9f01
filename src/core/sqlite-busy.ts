// SQLite answers SQLITE_BUSY at once, without waiting out the busy timeout, when waiting could deadlock:
// two processes opening the same new file both switch it to WAL and create its tables, and the one that
// must upgrade its lock is told "database is locked" immediately. Opening is rare and cheap, so the few
// statements that set a file up are retried for a bounded time instead of failing the whole process.
const BUSY = /SQLITE_BUSY|database is locked/i;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `fn`, retrying while SQLite reports the file busy, for at most `timeoutMs`. */
export function retryWhileBusy<T>(fn: () => T, timeoutMs = 5_000): T {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return fn();
    } catch (error) {
      const message =
        error instanceof Error ? `${(error as { code?: string }).code ?? ""} ${error.message}` : "";
      if (!BUSY.test(message) || Date.now() >= deadline) throw error;
      // Jittered, growing waits so two openers do not retry in lock step.
      sleepSync(Math.min(100, 5 * attempt) + Math.floor(Math.random() * 10));
    }
  }
}
