// Who owns a pending write, and whether it can still be in flight. A pending row names its process
// (host:pid:instance). Recovery settles a row only when nothing can still be writing it: its process is gone
// (a crash), or it is this process and the write has ended (an uncertain outcome left behind), or, for a
// process on another host, it is older than any write can take.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

const INSTANCE = randomBytes(6).toString("hex");
/** A write (the order POST plus its reply rounds) never takes this long; after it a row is abandoned. */
export const ABANDONED_AFTER_MS = 10 * 60_000;

const active = new Set<string>();

function host(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, "_")
      .slice(0, 64) || "host"
  );
}

export function processOwner(): string {
  return `${host()}:${process.pid}:${INSTANCE}`;
}

/** Marks a write of this process as running (its key hash) until the returned function is called. */
export function markActive(keyHash: string): () => void {
  active.add(keyHash);
  return () => {
    active.delete(keyHash);
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** True when nothing can still be writing this pending row. */
export function ownerGone(
  record: { keyHash: string; owner: string | null; updatedAt: number },
  now: number,
): boolean {
  if (now - record.updatedAt > ABANDONED_AFTER_MS) return true;
  const [ownerHost, pidText, instance] = (record.owner ?? "").split(":");
  const pid = Number(pidText);
  if (ownerHost !== host() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) {
    // Our pid but another instance: an earlier process that had our pid has died.
    return instance === INSTANCE ? !active.has(record.keyHash) : true;
  }
  return !processAlive(pid);
}
