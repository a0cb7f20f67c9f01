// The sidecar relay as real processes, the way two people run it on two machines: a real oidc-provider
// (RS256 JWTs over HTTPS), the remote gateway (`ibkr-agent mcp serve --transport http` with broker.backend
// relay, remote MCP and its own TLS certificate, so the sidecar connects over wss), the sidecar (`ibkr-agent
// sidecar run`, outbound only, trusting the remote through sidecar.remote_ca_file) and the HTTPS simulator it
// uses as its Client Portal Gateway. Pairing goes through the real CLI on both profiles, the approval in a
// pseudo-terminal with the operator PIN. Every process's output is kept for the secret scan, and both
// profiles' stores (database and write-ahead log) can be read back as bytes or as audit events.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Agent, request, fetch as undiciFetch } from "undici";
import { WebSocket } from "ws";
import { stringify } from "yaml";
import { hashOperatorPin, loadConfig } from "../../src/config/index.ts";
import { readSidecarStatus, type SidecarStatus } from "../../src/sidecar/relay-status.ts";
import { selfSignedCertificate } from "../../src/simulator/certificate.ts";
import { type AuditEventRecord, openStore } from "../../src/store/index.ts";
import { type CliRun, cliRun } from "./cli-process.ts";
import { freePort } from "./mcp-http.ts";
import { type ServingCli, startServingCli } from "./mcp-http-cli.ts";
import { startAuthServer, type TestAuthServer } from "./oauth-server.ts";
import { PAPER_ACCOUNT } from "./orders.ts";
import { type SimulatorWire, simulatorWire } from "./paper-profile.ts";
import { RELAY_SCOPES } from "./relay-scopes.ts";
import { ROOT } from "./run.ts";
import { type SpawnedSimulator, spawnSimulator } from "./spawn-simulator.ts";
import { cliInTerminal, type TerminalResult } from "./terminal.ts";

export const OPERATOR_PIN = "864209";
const REMOTE_AUDIT_ENV = "IBKR_AGENT_E2E_REMOTE_AUDIT_SECRET";
const SIDECAR_AUDIT_ENV = "IBKR_AGENT_E2E_SIDECAR_AUDIT_SECRET";
const TOKEN_ID_ENV = "IBKR_AGENT_E2E_TOKEN_ID_SECRET";
/** Secrets of the two machines (each its own), kept here so the scan can look for them too. */
export const PROCESS_SECRETS = {
  [REMOTE_AUDIT_ENV]: "e2e-relay-remote-audit-secret-0123456789abcdef",
  [SIDECAR_AUDIT_ENV]: "e2e-relay-sidecar-audit-secret-0123456789abcdef",
  [TOKEN_ID_ENV]: "e2e-relay-token-id-secret-0123456789abcdef0123",
} as const;

/** Heartbeat settings of both ends: a silent sidecar counts as gone after 3 s. */
export const HEARTBEAT = { interval: 1, timeout: 3 } as const;

/** A running `ibkr-agent sidecar run`. */
export interface RunningSidecar {
  readonly child: ChildProcess;
  readonly pid: number;
  /** How it ended; pending while it runs. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its stdout (the --json start line) and everything it printed, stderr included. */
  stdout(): string;
  output(): string;
  /** Resolves with the daemon's published status once this process reports a session other than `not`. */
  connected(not?: string | null): Promise<SidecarStatus>;
  /** Sends a signal (SIGSTOP/SIGCONT too) and, for a terminating one, waits for the exit. */
  signal(signal: NodeJS.Signals): Promise<void>;
}

export interface PairingFacts {
  readonly pairingId: string;
  /** The one-time code (shown once by `pairing create`; no store may hold it). */
  readonly code: string;
  readonly sidecarFingerprint: string;
  readonly remoteFingerprint: string;
  /** The human output of each pairing step, for what docs/sidecar.md promises. */
  readonly outputs: { create: CliRun; pair: CliRun; approve: TerminalResult };
}

export interface RelayChain {
  readonly root: string;
  readonly sim: SpawnedSimulator;
  readonly wire: SimulatorWire;
  readonly auth: TestAuthServer;
  readonly remoteEnv: NodeJS.ProcessEnv;
  readonly sidecarEnv: NodeJS.ProcessEnv;
  /** The token subject the pairing is bound to (client credentials: the client id). */
  readonly user: string;
  /** https://127.0.0.1:PORT/relay, the sidecar's sidecar.remote_url. */
  readonly relayUrl: string;
  readonly mcpUrl: string;
  /** PEM of the remote's self-signed certificate (the sidecar's remote_ca_file). */
  readonly remoteCa: string;
  readonly remote: ServingCli | undefined;
  readonly sidecar: RunningSidecar | undefined;
  startRemote(): Promise<ServingCli>;
  stopRemote(signal?: NodeJS.Signals): Promise<void>;
  startSidecar(extra?: NodeJS.ProcessEnv): Promise<RunningSidecar>;
  /** create (remote) -> pair (sidecar) -> approve in a terminal with the PIN (remote). */
  pair(): Promise<PairingFacts>;
  remoteCli(args: readonly string[]): Promise<CliRun>;
  sidecarCli(args: readonly string[]): Promise<CliRun>;
  /** A token from the authorization server's token endpoint (client credentials), remembered for the scan. */
  token(scopes?: readonly string[]): Promise<string>;
  /** An MCP SDK client on the remote's /mcp with a bearer token. */
  client(scopes?: readonly string[]): Promise<Client>;
  /** The sidecar daemon's published status (the file `sidecar status` reads), or null. */
  status(): SidecarStatus | null;
  /** A raw WebSocket to the remote's /relay over TLS, open (for frames no real sidecar would send). */
  relaySocket(): Promise<WebSocket>;
  remoteEvents(type?: string): AuditEventRecord[];
  sidecarEvents(type?: string): AuditEventRecord[];
  /** Bytes of both stores (database and write-ahead log), for the secret scan. */
  storeBytes(): string;
  /** The base64 body of both sides' Ed25519 private key files (relay-identity.pem), for the scan. */
  privateKeys(): string[];
  /** Everything every process of the chain printed so far. */
  logs(): string;
  /** Tokens handed out so far. */
  readonly tokens: readonly string[];
  close(): Promise<void>;
}

/** The environment of every process: PATH and such, no IBKR_AGENT_* variable of the test runner. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("IBKR_AGENT_")));
}

function json(run: CliRun): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

export { until as waitUntil };

export async function startRelayChain(): Promise<RelayChain> {
  const root = mkdtempSync(join(tmpdir(), "ibkr-e2e-relay-"));
  const logs: string[] = [];
  const tokens: string[] = [];
  // Tuesday 10:00 in New York: the market is open for the whole file.
  const sim = await spawnSimulator(["--time", "2026-12-01T15:00:00Z", "--seed", "5", "--pacing", "bench"]);
  const wire = simulatorWire(sim);
  const port = await freePort();
  const mcpUrl = `https://127.0.0.1:${port}/mcp`;
  const relayUrl = `https://127.0.0.1:${port}/relay`;
  const auth = await startAuthServer({ resource: mcpUrl, scopes: [...RELAY_SCOPES], dir: root });

  const certificate = await selfSignedCertificate();
  const certFile = join(root, "remote-cert.pem");
  const keyFile = join(root, "remote-key.pem");
  const caFile = join(root, "remote-ca.pem");
  writeFileSync(certFile, certificate.cert);
  writeFileSync(keyFile, certificate.key, { mode: 0o600 });
  writeFileSync(caFile, certificate.cert);
  const sidecarHeartbeat = {
    heartbeat_interval_seconds: HEARTBEAT.interval,
    heartbeat_timeout_seconds: HEARTBEAT.timeout,
  };

  const remoteFile = join(root, "remote.yaml");
  writeFileSync(
    remoteFile,
    stringify({
      audit: { secret_env: REMOTE_AUDIT_ENV },
      broker: { backend: "relay" },
      safety: { remote_mcp_enabled: true, sidecar_enabled: true },
      operator: { pin_hash: hashOperatorPin(OPERATOR_PIN, { ln: 14 }) },
      logging: { level: "debug", format: "json" },
      remote_mcp: {
        enabled: true,
        bind: `127.0.0.1:${port}`,
        resource: mcpUrl,
        issuer: auth.issuer,
        jwks_url: auth.jwksUrl,
        jwks_ca_file: auth.caFile,
        token_id_hmac_secret_env: TOKEN_ID_ENV,
        allowed_scopes: [...RELAY_SCOPES],
        tls_cert_file: certFile,
        tls_key_file: keyFile,
        // Every process of this file connects from 127.0.0.1; the sidecar reconnects several times.
        rate_limit: { pre_auth_max_requests: 1000, max_requests: 1000 },
      },
      sidecar: { enabled: true, ...sidecarHeartbeat },
    }),
  );
  const sidecarFile = join(root, "sidecar.yaml");
  writeFileSync(
    sidecarFile,
    stringify({
      audit: { secret_env: SIDECAR_AUDIT_ENV },
      logging: { level: "debug", format: "json" },
      broker: { backend: "client_portal_gateway", base_url: sim.baseUrl, ca_file: sim.certificateFile },
      auth: { enabled_scopes: [...RELAY_SCOPES] },
      safety: { sidecar_enabled: true, paper_trading_enabled: true },
      order_preview: { enabled: true },
      paper_trading: { enabled: true, allowed_accounts: [PAPER_ACCOUNT] },
      sidecar: {
        enabled: true,
        remote_url: relayUrl,
        remote_ca_file: caFile,
        accepted_tiers: ["read", "preview", "paper"],
        ...sidecarHeartbeat,
      },
    }),
  );
  const remoteEnv: NodeJS.ProcessEnv = {
    ...baseEnv(),
    IBKR_AGENT_HOME: join(root, "remote-home"),
    IBKR_AGENT_CONFIG: remoteFile,
    [REMOTE_AUDIT_ENV]: PROCESS_SECRETS[REMOTE_AUDIT_ENV],
    [TOKEN_ID_ENV]: PROCESS_SECRETS[TOKEN_ID_ENV],
  };
  const sidecarEnv: NodeJS.ProcessEnv = {
    ...baseEnv(),
    IBKR_AGENT_HOME: join(root, "sidecar-home"),
    IBKR_AGENT_CONFIG: sidecarFile,
    [SIDECAR_AUDIT_ENV]: PROCESS_SECRETS[SIDECAR_AUDIT_ENV],
  };
  const remotePaths = loadConfig({ env: remoteEnv }).paths;
  const sidecarLoaded = loadConfig({ env: sidecarEnv });
  const sidecarPaths = sidecarLoaded.paths;
  const remoteSecrets = loadConfig({ env: remoteEnv }).secrets.storeSecrets();
  const sidecarSecrets = sidecarLoaded.secrets.storeSecrets();

  const clientAgent = new Agent({ connect: { ca: certificate.cert } });
  const remoteFetch = ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(
      input as string,
      { ...(init as object), dispatcher: clientAgent } as never,
    )) as unknown as typeof fetch;

  const runs = async (run: Promise<CliRun>, label: string): Promise<CliRun> => {
    const done = await run;
    logs.push(`--- ${label}\n${done.stdout}\n${done.stderr}`);
    return done;
  };
  const events = (path: string, secrets: typeof remoteSecrets, type?: string) => {
    if (!existsSync(path)) return [];
    const store = openStore({ path, secrets, readonly: true });
    try {
      return [...store.exportEvents()].filter((event) => type === undefined || event.event_type === type);
    } finally {
      store.close();
    }
  };

  const children: ChildProcess[] = [];
  const chain: RelayChain & { remote: ServingCli | undefined; sidecar: RunningSidecar | undefined } = {
    root,
    sim,
    wire,
    auth,
    remoteEnv,
    sidecarEnv,
    user: auth.clientId,
    relayUrl,
    mcpUrl,
    remoteCa: certificate.cert,
    remote: undefined,
    sidecar: undefined,
    tokens,
    async startRemote() {
      const server = await startServingCli(["--json"], remoteEnv);
      chain.remote = server;
      children.push(server.child);
      server.child.on("close", () => logs.push(`--- mcp serve\n${server.stdout()}\n${server.stderr()}`));
      return server;
    },
    async stopRemote(signal = "SIGTERM") {
      const server = chain.remote;
      chain.remote = undefined;
      if (server !== undefined) await server.stop(signal);
    },
    async startSidecar(extra = {}) {
      const child = spawn(process.execPath, [resolve(ROOT, "src/cli/bin.ts"), "sidecar", "run", "--json"], {
        cwd: ROOT,
        env: { ...sidecarEnv, ...extra },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      let output = "";
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        stdout += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
        child.on("close", (code, signal) => {
          logs.push(`--- sidecar run (pid ${child.pid})\n${output}`);
          done({ code, signal });
        }),
      );
      let ended = false;
      void exited.then(() => {
        ended = true;
      });
      const pid = child.pid ?? -1;
      const running: RunningSidecar = {
        child,
        pid,
        exited,
        stdout: () => stdout,
        output: () => output,
        connected: (not = null) =>
          until(`sidecar ${pid} to connect`, () => {
            if (ended) throw new Error(`the sidecar exited:\n${output}`);
            const status = readSidecarStatus(sidecarPaths.profileDir);
            return status !== null &&
              status.pid === pid &&
              status.state === "connected" &&
              status.relay_session_id !== not
              ? status
              : undefined;
          }),
        async signal(signal) {
          if (!ended) child.kill(signal);
          if (signal === "SIGKILL" || signal === "SIGTERM" || signal === "SIGINT") await exited;
        },
      };
      chain.sidecar = running;
      return running;
    },
    async pair() {
      const create = await runs(
        cliRun(["sidecar", "pairing", "create", "--user", auth.clientId, "--json"], remoteEnv),
        "pairing create",
      );
      if (create.code !== 0) throw new Error(`pairing create failed: ${create.stdout}${create.stderr}`);
      const created = json(create);
      const code = String(created.code);
      const pairingId = String((created.pairing as { pairing_id: string }).pairing_id);
      const remoteFingerprint = String(created.remote_fingerprint);
      const pair = await runs(
        cliRun(
          ["sidecar", "pair", code, "--remote", relayUrl, "--remote-fingerprint", remoteFingerprint],
          sidecarEnv,
        ),
        "sidecar pair",
      );
      const sidecarFingerprint = /This sidecar's fingerprint: +([A-Z2-7-]{39})/.exec(pair.stdout)?.[1];
      if (pair.code !== 0 || sidecarFingerprint === undefined)
        throw new Error(`sidecar pair failed: ${pair.stdout}${pair.stderr}`);
      const approve = await cliInTerminal(
        ["sidecar", "pairing", "approve", pairingId, "--fingerprint", sidecarFingerprint],
        remoteEnv,
        { pin: OPERATOR_PIN },
      );
      logs.push(`--- pairing approve\n${approve.output}`);
      if (approve.code !== 0) throw new Error(`pairing approve failed: ${approve.output}`);
      return { pairingId, code, sidecarFingerprint, remoteFingerprint, outputs: { create, pair, approve } };
    },
    remoteCli: (args) => runs(cliRun(args, remoteEnv), `remote: ${args.join(" ")}`),
    sidecarCli: (args) => runs(cliRun(args, sidecarEnv), `sidecar: ${args.join(" ")}`),
    async token(scopes = RELAY_SCOPES) {
      const token = await auth.clientCredentialsToken(scopes.join(" "));
      tokens.push(token);
      return token;
    },
    async client(scopes = RELAY_SCOPES) {
      const token = await chain.token(scopes);
      const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
        fetch: remoteFetch,
      });
      const client = new Client({ name: "relay-e2e", version: "1.0.0" });
      await client.connect(transport);
      return client;
    },
    status: () => readSidecarStatus(sidecarPaths.profileDir),
    relaySocket: () =>
      new Promise<WebSocket>((done, fail) => {
        const ws = new WebSocket(relayUrl.replace("https:", "wss:"), { ca: certificate.cert });
        ws.once("open", () => done(ws));
        ws.once("error", fail);
      }),
    remoteEvents: (type) => events(remotePaths.storePath, remoteSecrets, type),
    sidecarEvents: (type) => events(sidecarPaths.storePath, sidecarSecrets, type),
    storeBytes: () =>
      [remotePaths.storePath, sidecarPaths.storePath]
        .flatMap((path) => [path, `${path}-wal`])
        .filter((path) => existsSync(path))
        .map((path) => readFileSync(path).toString("latin1"))
        .join("\n"),
    privateKeys: () =>
      [remotePaths.profileDir, sidecarPaths.profileDir].map((dir) =>
        readFileSync(join(dir, "relay-identity.pem"), "utf8")
          .split("\n")
          .filter((line) => line !== "" && !line.startsWith("-----"))
          .join(""),
      ),
    logs: () =>
      [
        ...logs,
        chain.remote !== undefined ? `${chain.remote.stdout()}\n${chain.remote.stderr()}` : "",
        chain.sidecar?.output() ?? "",
        sim.output().stdout,
        sim.output().stderr,
      ].join("\n"),
    async close() {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGCONT");
          child.kill("SIGKILL");
        }
      }
      await wire.close();
      await clientAgent.close();
      await sim.stop();
      await auth.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return chain;
}

/** The simulator's current broker session token (what a Client Portal Gateway's tickle reports). */
export async function brokerSessionToken(sim: SpawnedSimulator): Promise<string> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(sim.certificateFile, "utf8") } });
  try {
    const answer = await request(`https://localhost:${sim.port}/v1/api/tickle`, { dispatcher });
    return String(((await answer.body.json()) as { session: string }).session);
  } finally {
    await dispatcher.close();
  }
}

export interface ToolAnswer {
  readonly isError: boolean;
  readonly structured: Record<string, unknown>;
  readonly error: { code: string; message: string; user_action: string; retryable: boolean } & Record<
    string,
    unknown
  >;
}

/** A tool call over MCP, answered with its structured content (and its error, when it failed). */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolAnswer> {
  const result = await client.callTool({ name, arguments: args });
  const structured = (result.structuredContent ?? {}) as Record<string, unknown>;
  return {
    isError: result.isError === true,
    structured,
    error: (structured.error ?? {}) as ToolAnswer["error"],
  };
}

/** A tool call that must succeed. */
export async function okTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const answer = await callTool(client, name, args);
  if (answer.isError) throw new Error(`${name} failed: ${JSON.stringify(answer.structured)}`);
  return answer.structured;
}
