// Shared pieces of the pairing tests: a relay gateway's configuration loaded from a real file, its real
// SQLite store and relay identity in a private temporary home, a manual clock, and a CLI call context.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { stringify } from "yaml";
import { hashOperatorPin, type LoadedConfig, loadConfig } from "../../src/config/index.ts";
import { ensureProfileDir } from "../../src/config/paths.ts";
import type { CallContext } from "../../src/core/call-context.ts";
import { createManualClock, type ManualClock } from "../../src/core/clock.ts";
import { loadOrCreateIdentity, type RelayIdentity } from "../../src/sidecar/identity.ts";
import { openStore, type Store } from "../../src/store/index.ts";

export const SECRET_ENV = "IBKR_AGENT_PAIRING_TEST_SECRET";
export const SECRET = "pairing-test-secret-0123456789abcdef0123456789";
export const PIN = "864213";
export const ISSUER = "https://auth.example.test/";

const made: string[] = [];
const opened: Store[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempHome(prefix = "ibkr-pairing-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function remoteConfigText(extra: Record<string, unknown> = {}): string {
  return stringify({
    audit: { secret_env: SECRET_ENV },
    broker: { backend: "relay" },
    safety: { remote_mcp_enabled: true, sidecar_enabled: true },
    operator: { pin_hash: hashOperatorPin(PIN, { ln: 14 }) },
    remote_mcp: {
      enabled: true,
      resource: "https://gateway.example.test/mcp",
      issuer: ISSUER,
      jwks_url: "https://auth.example.test/jwks",
      allowed_scopes: ["ibkr:health:read", "ibkr:accounts:read"],
    },
    sidecar: { enabled: true, pairing: { code_ttl_seconds: 600, max_attempts: 5, ttl_days: 30 } },
    ...extra,
  });
}

export function sidecarConfigText(remoteUrl: string, extra: Record<string, unknown> = {}): string {
  return stringify({
    audit: { secret_env: SECRET_ENV },
    safety: { sidecar_enabled: true },
    sidecar: { enabled: true, remote_url: remoteUrl },
    ...extra,
  });
}

export interface Profile {
  readonly home: string;
  readonly file: string;
  readonly env: NodeJS.ProcessEnv;
  readonly loaded: LoadedConfig;
  readonly store: Store;
  readonly identity: RelayIdentity;
  readonly clock: ManualClock;
  /** A CLI context; interactive as asked (the operator check reads it). */
  context(interactive?: boolean): CallContext;
}

let counter = 0;

export function openProfile(configText: string, home = tempHome()): Profile {
  counter += 1;
  const file = join(home, `config-${counter}.yaml`);
  writeFileSync(file, configText);
  const env = { IBKR_AGENT_HOME: join(home, "state"), [SECRET_ENV]: SECRET };
  const loaded = loadConfig({ file, env });
  ensureProfileDir(loaded.paths, loaded.config.broker.backend);
  const clock = createManualClock(Date.UTC(2026, 10, 24, 14, 0, 0));
  const store = openStore({ path: loaded.paths.storePath, secrets: loaded.secrets.storeSecrets(), clock });
  const identity = loadOrCreateIdentity(loaded.paths);
  opened.push(store);
  return {
    home,
    file,
    env,
    loaded,
    store,
    identity,
    clock,
    context: (interactive = true) => ({
      frontDoor: "cli",
      principal: "local:operator",
      scopes: new Set(),
      requestId: `req_${crypto.randomUUID()}`,
      sessionId: `ses_${crypto.randomUUID()}`,
      interactive,
    }),
  };
}

export function events(store: Store, type?: string) {
  return [...store.exportEvents()].filter((event) => type === undefined || event.event_type === type);
}
