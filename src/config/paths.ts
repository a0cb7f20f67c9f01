// Where state lives. Everything a gateway writes is under one profile directory,
// $IBKR_AGENT_HOME/profiles/<profile>/, and each backend has its own default profile, so simulated and real
// orders, idempotency keys and the kill switch never share a database. A marker file in the directory
// records the backend it belongs to, which stops a renamed profile from mixing them anyway.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { GatewayError } from "../core/gateway-error.ts";
import { type Backend, DEFAULT_PROFILES } from "./constants.ts";
import { configError, problem } from "./problems.ts";
import type { ConfigValues } from "./schema.ts";

export interface ConfigPaths {
  /** $IBKR_AGENT_HOME, default ~/.ibkr-agent. */
  readonly home: string;
  readonly profile: string;
  /** home/profiles/<profile>: every file the gateway writes for this broker profile. */
  readonly profileDir: string;
  /** The SQLite file of the audit log and the order state (audit.database_path). */
  readonly storePath: string;
  /** The SQLite file shared by processes for pacing and leases (broker.coordination_path). */
  readonly coordinationPath: string;
  /** The generated audit secret; set only when no config file is used (a file names an env variable). */
  readonly auditSecretPath: string | undefined;
  /** The config file in use, absolute; undefined for the safe defaults. */
  readonly configFile: string | undefined;
}

const MARKER = "profile.json";
const PRIVATE_DIR = 0o700;

function userHome(env: NodeJS.ProcessEnv): string {
  return env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
}

/** The state root: an explicit home, else $IBKR_AGENT_HOME, else ~/.ibkr-agent. */
export function resolveHome(env: NodeJS.ProcessEnv, home?: string): string {
  const chosen =
    home ??
    (env.IBKR_AGENT_HOME !== undefined && env.IBKR_AGENT_HOME !== "" ? env.IBKR_AGENT_HOME : undefined);
  if (chosen === undefined) return join(userHome(env), ".ibkr-agent");
  const expanded = expandHome(chosen, env);
  if (!isAbsolute(expanded)) {
    // A relative home would follow the working directory, which differs between a terminal and an MCP
    // client that starts the server, and would split the state without anyone noticing.
    throw configError(
      [
        problem(
          "$IBKR_AGENT_HOME",
          "must be an absolute path (a relative one depends on the working directory)",
        ),
      ],
      "environment",
    );
  }
  return resolve(expanded);
}

export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === "~") return userHome(env);
  if (path.startsWith("~/")) return join(userHome(env), path.slice(2));
  return path;
}

/** Makes a path from the config file absolute: ~ is the user's home, relative means next to the file. */
export function pathResolver(
  configFile: string | undefined,
  env: NodeJS.ProcessEnv,
): (path: string) => string {
  const base = configFile === undefined ? process.cwd() : dirname(configFile);
  return (path) => resolve(base, expandHome(path, env));
}

export function profileName(values: ConfigValues): string {
  return values.broker.profile ?? DEFAULT_PROFILES[values.broker.backend];
}

export function resolvePaths(
  values: ConfigValues,
  options: { home: string; configFile: string | undefined; env: NodeJS.ProcessEnv },
): ConfigPaths {
  const profile = profileName(values);
  const profileDir = join(options.home, "profiles", profile);
  const resolvePath = pathResolver(options.configFile, options.env);
  return {
    home: options.home,
    profile,
    profileDir,
    storePath:
      values.audit.database_path === undefined
        ? join(profileDir, "state.sqlite")
        : resolvePath(values.audit.database_path),
    coordinationPath:
      values.broker.coordination_path === undefined
        ? join(profileDir, "coordination.sqlite")
        : resolvePath(values.broker.coordination_path),
    auditSecretPath: options.configFile === undefined ? join(profileDir, "audit-secret") : undefined,
    configFile: options.configFile,
  };
}

/** Creates the state directories (0700) when missing. */
export function ensurePrivateDir(path: string): void {
  if (!existsSync(path)) {
    mkdirSync(path, { recursive: true, mode: PRIVATE_DIR });
    if (process.platform !== "win32") chmodSync(path, PRIVATE_DIR);
  }
}

/**
 * Prepares the profile directory and checks it belongs to this backend: the first use records the backend,
 * a later use with another backend is refused instead of mixing simulated and real state.
 */
export function ensureProfileDir(paths: ConfigPaths, backend: Backend): void {
  ensurePrivateDir(paths.home);
  ensurePrivateDir(paths.profileDir);
  // The profile directory is ours alone; tighten it if something created it with wider permissions.
  if (process.platform !== "win32") chmodSync(paths.profileDir, PRIVATE_DIR);
  const marker = join(paths.profileDir, MARKER);
  try {
    writeFileSync(marker, `${JSON.stringify({ format: "ibkr-agent-profile", backend })}\n`, {
      mode: 0o600,
      flag: "wx",
    });
    return;
  } catch (error) {
    // Another run (or another process just now) recorded the backend first: check it instead.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  let recorded: unknown;
  try {
    recorded = (JSON.parse(readFileSync(marker, "utf8")) as { backend?: unknown }).backend;
  } catch {
    recorded = undefined;
  }
  if (recorded !== backend) {
    throw new GatewayError("CONFIG_INVALID", {
      message: `The profile "${paths.profile}" holds the state of another backend (${String(recorded)}), not ${backend}.`,
      userAction:
        "Use a profile of its own for this backend (`broker.profile`), so simulated and real orders never share state.",
      details: {
        problems: [{ path: "broker.profile", problem: "belongs to another backend", code: "CONFIG_INVALID" }],
      },
    });
  }
}
