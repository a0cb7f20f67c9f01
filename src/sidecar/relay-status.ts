// The sidecar daemon's status, published as a small JSON file in its profile so `ibkr-agent sidecar status`
// (another process) can show the relay session, the last heartbeats and the calls in flight without talking
// to the daemon. Written atomically (a temporary file renamed over the old one), readable by the owner only.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const SIDECAR_STATUS_FILE = "sidecar-status.json";

export type DaemonState = "connecting" | "connected" | "backoff" | "refused" | "stopped";

export interface SidecarStatus {
  readonly schema: 1;
  readonly pid: number;
  readonly state: DaemonState;
  readonly remote_url: string;
  readonly relay_session_id: string | null;
  readonly session_expires_at: string | null;
  readonly last_heartbeat_sent_at: string | null;
  readonly last_heartbeat_received_at: string | null;
  readonly in_flight: number;
  readonly calls_completed: number;
  readonly reconnects: number;
  /** The last refusal or failure (code and message only; never a token, key or path). */
  readonly last_error: { readonly code: string; readonly message: string } | null;
  readonly updated_at: string;
}

export function sidecarStatusPath(profileDir: string): string {
  return join(profileDir, SIDECAR_STATUS_FILE);
}

export function writeSidecarStatus(path: string, status: SidecarStatus): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** The published status, or null when no daemon ever ran in this profile (or the file is unreadable). */
export function readSidecarStatus(profileDir: string): SidecarStatus | null {
  try {
    const value = JSON.parse(readFileSync(sidecarStatusPath(profileDir), "utf8")) as SidecarStatus;
    return value.schema === 1 ? value : null;
  } catch {
    return null;
  }
}

/** True when the process that wrote the status still runs (a killed daemon leaves a stale "connected"). */
export function daemonAlive(status: SidecarStatus): boolean {
  try {
    process.kill(status.pid, 0);
    return true;
  } catch {
    return false;
  }
}
