// Test support for the relay, in one process with real sockets: a remote gateway (broker.backend relay) whose
// hub listens on a loopback HTTP server's upgrade, and a sidecar gateway over the in-process simulator with the
// daemon connected to it. Pairings are plain objects the test can revoke; keys are real Ed25519 keys. The
// remote's clock is manual (heartbeat silence and expiry move without sleeping); messages carry real time.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ScopeName } from "../../generated/scopes.gen.ts";
import { renderResult } from "../../src/cli/render/result.ts";
import { type Clock, createManualClock, type ManualClock, systemClock } from "../../src/core/clock.ts";
import { createLogger } from "../../src/core/logger.ts";
import { PACKAGE_VERSION } from "../../src/core/version.ts";
import { composeGateway, type Gateway } from "../../src/gateway/index.ts";
import { serveMcpHttp } from "../../src/mcp/http.ts";
import {
  type Daemon,
  type LocalPairingView,
  type PairingEnded,
  startDaemon,
} from "../../src/sidecar/daemon.ts";
import { sidecarIdOf } from "../../src/sidecar/identity.ts";
import { rawPublicKey } from "../../src/sidecar/protocol/index.ts";
import type { Limits } from "../../src/sidecar/protocol/messages.ts";
import { createRelayAuditor } from "../../src/sidecar/relay-audit.ts";
import { relayLimits } from "../../src/sidecar/relay-backend.ts";
import type { RelayPairingView } from "../../src/sidecar/relay-hub.ts";
import { createSimulator, type Simulator } from "../../src/simulator/index.ts";
import type { AuditEventRecord } from "../../src/store/index.ts";
import { RELAY_SCOPES } from "../support/relay-scopes.ts";
import { MARKET_OPEN } from "../support/simulator.ts";

/** The simulator's paper account (as test/support/orders.ts names it; not imported, so benches can use this). */
const PAPER_ACCOUNT = "DU1234567";
export const SECRET_ENV = "IBKR_AGENT_TEST_AUDIT_SECRET";
const SECRET = "relay-audit-secret-0123456789abcdef0123456789";
export const USER = `oauth:${"a".repeat(64)}`;
export const PAIRING_ID = "pairing-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";
export const INSTANCE_ID = "remote-0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d";

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly raw: string;
}

export function keyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, raw: rawPublicKey(publicKey) };
}

export interface RelayPairHarness {
  readonly remote: Gateway;
  readonly sidecar: Gateway;
  readonly sim: Simulator;
  readonly remoteClock: ManualClock;
  readonly relayUrl: string;
  readonly sidecarKey: KeyPair;
  readonly sidecarId: string;
  readonly remoteKey: KeyPair;
  /** The remote's record of the pairing (status and expiry can be changed by the test). */
  readonly pairing: { status: string; expiresAt: number };
  /** The sidecar's record of the pairing (the remote key it stored at pairing can be changed by the test). */
  readonly localPairing: { status: string; expiresAt: number; remotePublicKey: string };
  /** What the daemon reported when the pairing ended for good (onPairingEnded), in order. */
  readonly pairingEnded: PairingEnded[];
  /** Set with serveHttp: the remote's real HTTP server (serveMcpHttp), whose base URL this is. */
  readonly httpBase: string | undefined;
  daemon: Daemon;
  /** A tool call as the HTTP front door would dispatch it for USER with these scopes. */
  call(
    tool: string,
    args?: Record<string, unknown>,
    scopes?: readonly string[],
  ): ReturnType<Gateway["dispatch"]>;
  startDaemon(clock?: Clock): Daemon;
  remoteEvents(type?: string): AuditEventRecord[];
  sidecarEvents(type?: string): AuditEventRecord[];
  /** Raw bytes of both stores and every log line, for secret scans. */
  everything(): string;
  close(): Promise<void>;
}

export interface RelayPairOptions {
  readonly limits?: Partial<Limits>;
  readonly acceptedTiers?: readonly string[];
  readonly sidecarConfig?: Record<string, unknown>;
  /** Start without a daemon (tests that speak the protocol themselves). */
  readonly noDaemon?: boolean;
  readonly sessionTtlSeconds?: number;
  /** Serve the remote with its real HTTP front door (serveMcpHttp) instead of a bare upgrade listener. */
  readonly serveHttp?: boolean;
  /** Merged into the remote's remote_mcp configuration. */
  readonly remoteMcp?: Record<string, unknown>;
  /** The paired user's principal, once the remote is composed (default USER); e.g. a real token subject's. */
  readonly user?: (remote: Gateway) => string;
}

function writeConfig(home: string, config: Record<string, unknown>): string {
  const file = join(home, "config.yaml");
  writeFileSync(file, stringify({ audit: { secret_env: SECRET_ENV }, ...config }));
  return file;
}

export async function startRelayPair(options: RelayPairOptions = {}): Promise<RelayPairHarness> {
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", format: "json", write: (line) => logs.push(line) });
  const env: NodeJS.ProcessEnv = { ...process.env, [SECRET_ENV]: SECRET };
  delete env.IBKR_AGENT_CONFIG;
  const limits = { heartbeat_interval_seconds: 1, heartbeat_timeout_seconds: 3, ...options.limits };

  const remoteHome = mkdtempSync(join(tmpdir(), "ibkr-relay-remote-"));
  const remoteFile = writeConfig(remoteHome, {
    broker: { backend: "relay" },
    safety: { remote_mcp_enabled: true, sidecar_enabled: true },
    remote_mcp: {
      enabled: true,
      bind: "127.0.0.1:8443",
      resource: "http://127.0.0.1:8443/mcp",
      issuer: "https://auth.example.test",
      jwks_url: "https://auth.example.test/jwks",
      allowed_scopes: [...RELAY_SCOPES],
      ...options.remoteMcp,
    },
    sidecar: {
      enabled: true,
      heartbeat_interval_seconds: limits.heartbeat_interval_seconds,
      heartbeat_timeout_seconds: limits.heartbeat_timeout_seconds,
    },
  });
  const sidecarKey = keyPair();
  const SIDECAR_ID = sidecarIdOf(sidecarKey.raw);
  const remoteKey = keyPair();
  const pairing = { status: "active", expiresAt: Date.now() + 86_400_000 };
  let user = USER;
  const view = (): RelayPairingView => ({
    pairingId: PAIRING_ID,
    sidecarId: SIDECAR_ID,
    principal: user,
    status: pairing.status,
    expiresAt: pairing.expiresAt,
    publicKey: sidecarKey.raw,
  });
  const remoteClock = createManualClock(Date.now());
  const remote = await composeGateway({
    frontDoor: "mcp_http",
    env: { ...env, IBKR_AGENT_HOME: remoteHome },
    file: remoteFile,
    clock: remoteClock,
    logger: logger.child({ side: "remote" }),
    relay: {
      parts: () => ({
        pairings: {
          byPublicKey: (key) => (key === sidecarKey.raw ? view() : undefined),
          forPrincipal: (principal) => (principal === user ? view() : undefined),
        },
        privateKey: remoteKey.privateKey,
        instanceId: INSTANCE_ID,
      }),
      limits,
      ...(options.sessionTtlSeconds !== undefined ? { sessionTtlSeconds: options.sessionTtlSeconds } : {}),
    },
  });
  if (options.user !== undefined) user = options.user(remote);
  let server: Server | undefined;
  let http: Awaited<ReturnType<typeof serveMcpHttp>> | undefined;
  let port: number;
  if (options.serveHttp) {
    // As `mcp serve --transport http` serves it (the CLI's text rendering).
    http = await serveMcpHttp({
      gateway: remote,
      version: PACKAGE_VERSION,
      renderText: renderResult,
      bind: "127.0.0.1:0",
    });
    port = http.port;
  } else {
    const bare = createServer((_req, res) => res.writeHead(404).end());
    bare.on("upgrade", (req, socket, head) => remote.relay?.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
    server = bare;
    port = (bare.address() as AddressInfo).port;
  }
  const relayUrl = `ws://127.0.0.1:${port}/relay`;

  const sidecarHome = mkdtempSync(join(tmpdir(), "ibkr-relay-sidecar-"));
  const accepted = options.acceptedTiers ?? ["read", "preview", "paper"];
  const sidecarFile = writeConfig(sidecarHome, {
    safety: { sidecar_enabled: true, paper_trading_enabled: true },
    paper_trading: { enabled: true, allowed_accounts: [PAPER_ACCOUNT] },
    order_preview: { enabled: true },
    auth: { enabled_scopes: [...RELAY_SCOPES] },
    sidecar: {
      enabled: true,
      remote_url: "wss://remote.example.test/relay",
      accepted_tiers: accepted,
      heartbeat_interval_seconds: limits.heartbeat_interval_seconds,
      heartbeat_timeout_seconds: limits.heartbeat_timeout_seconds,
    },
    ...options.sidecarConfig,
  });
  const simClock = createManualClock(MARKET_OPEN);
  const sim = createSimulator({ clock: simClock, scenario: "healthy", seed: 1 });
  const sidecar = await composeGateway({
    frontDoor: "system",
    env: { ...env, IBKR_AGENT_HOME: sidecarHome },
    file: sidecarFile,
    clock: simClock,
    simulator: sim,
    logger: logger.child({ side: "sidecar" }),
    sleep: async (ms) => {
      simClock.advance(ms);
    },
  });
  const localPairing = {
    status: "active",
    expiresAt: Date.now() + 86_400_000,
    remotePublicKey: remoteKey.raw,
  };
  const local = (): LocalPairingView | undefined =>
    localPairing.status === "revoked"
      ? undefined
      : {
          pairingId: PAIRING_ID,
          status: localPairing.status,
          expiresAt: localPairing.expiresAt,
          remotePublicKey: localPairing.remotePublicKey,
          remoteInstanceId: INSTANCE_ID,
        };
  const pairingEnded: PairingEnded[] = [];
  const launch = (clock: Clock = systemClock) =>
    startDaemon({
      gateway: sidecar,
      url: relayUrl,
      privateKey: sidecarKey.privateKey,
      publicKey: sidecarKey.raw,
      sidecarId: SIDECAR_ID,
      pairing: local,
      acceptedTiers: accepted,
      audit: createRelayAuditor(sidecar.store, clock, sidecar.logger),
      clock,
      logger: sidecar.logger,
      limits: relayLimits(sidecar.loaded, limits),
      backoff: { baseMs: 20, maxMs: 200 },
      // As `sidecar run` ends its local record (relay-pairings.ts endLocalPairing).
      onPairingEnded: (ended) => {
        pairingEnded.push(ended);
        localPairing.status = "revoked";
      },
    });

  const storeText = (gateway: Gateway) => {
    const path = gateway.loaded.paths.storePath;
    return [path, `${path}-wal`]
      .filter((p) => existsSync(p))
      .map((p) => readFileSync(p).toString("latin1"))
      .join("\n");
  };
  let requests = 0;
  const harness: RelayPairHarness = {
    remote,
    sidecar,
    sim,
    remoteClock,
    relayUrl,
    sidecarKey,
    sidecarId: SIDECAR_ID,
    remoteKey,
    pairing,
    localPairing,
    pairingEnded,
    httpBase: http === undefined ? undefined : `http://127.0.0.1:${port}`,
    daemon: undefined as unknown as Daemon,
    call(tool, args = {}, scopes: readonly string[] = RELAY_SCOPES) {
      requests += 1;
      return remote.dispatch(tool, args, {
        frontDoor: "mcp_http",
        principal: user,
        scopes: new Set(scopes as ScopeName[]),
        requestId: `req_0190a1b2-c3d4-7e5f-8a9b-${String(requests).padStart(12, "0")}`,
        sessionId: "ses_test",
      });
    },
    startDaemon(clock) {
      harness.daemon = launch(clock);
      return harness.daemon;
    },
    remoteEvents: (type) =>
      [...remote.store.exportEvents()].filter((e) => type === undefined || e.event_type === type),
    sidecarEvents: (type) =>
      [...sidecar.store.exportEvents()].filter((e) => type === undefined || e.event_type === type),
    everything: () => [storeText(remote), storeText(sidecar), ...logs].join("\n"),
    async close() {
      await harness.daemon?.stop();
      if (server !== undefined) {
        const bare = server;
        await new Promise<void>((resolve) => bare.close(() => resolve()));
        bare.closeAllConnections();
      }
      await http?.close();
      await remote.close();
      await sidecar.close();
      rmSync(remoteHome, { recursive: true, force: true });
      rmSync(sidecarHome, { recursive: true, force: true });
    },
  };
  if (!options.noDaemon) {
    harness.startDaemon();
    await harness.daemon.waitFor("connected");
  }
  return harness;
}
