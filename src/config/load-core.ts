// Loading the configuration of a process: the file named by the caller (`--config`) or by $IBKR_AGENT_CONFIG,
// else the safe defaults (simulator, read scopes, a generated audit secret). A file with any problem is
// refused as a whole with every problem listed; nothing is guessed. These are the steps shared by the
// synchronous loader (load.ts) and the asynchronous one below, which loads the parser only for a file.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { canonical } from "../core/decimal.ts";
import { DEFAULT_VALUES } from "./default-values.ts";
import { type ConfigPaths, expandHome, pathResolver, resolveHome, resolvePaths } from "./paths.ts";
import { configError, problem } from "./problems.ts";
import type { Config, ConfigValues } from "./schema.ts";
import { type ConfigSecrets, createSecrets } from "./secrets.ts";

export interface LoadConfigOptions {
  /** A config file (from `--config`); wins over $IBKR_AGENT_CONFIG. */
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** State root; wins over $IBKR_AGENT_HOME. */
  readonly home?: string;
  /** Check the named environment variables and files (default true; `config show` turns it off). */
  readonly checkEnvironment?: boolean;
}

export interface LoadedConfig {
  readonly config: Config;
  readonly paths: ConfigPaths;
  /** "defaults", or the absolute path of the config file. */
  readonly source: "defaults" | (string & {});
  /** How the file was chosen: by the caller, by $IBKR_AGENT_CONFIG, or none (defaults). */
  readonly origin: "option" | "env" | "defaults";
  readonly secrets: ConfigSecrets;
}

/** The configuration used when there is no file: every key at its default. */
export function defaultConfig(): ConfigValues {
  return structuredClone(DEFAULT_VALUES);
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a directory" : "cannot be read";
    throw configError([problem("", `the file ${why}`)], file);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * A copy with keys in the schema's order (the order of DEFAULT_VALUES, which TypeBox wrote in schema order),
 * so a shown config reads like the documentation. Keys without a default follow in their own order.
 */
function inSchemaOrder(node: unknown, shape: unknown): unknown {
  if (Array.isArray(node)) return node.map((item) => inSchemaOrder(item, undefined));
  if (node === null || typeof node !== "object") return node;
  const source = node as Record<string, unknown>;
  const model =
    shape !== null && typeof shape === "object" && !Array.isArray(shape)
      ? (shape as Record<string, unknown>)
      : {};
  const known = Object.keys(model).filter((key) => key in source);
  const out: Record<string, unknown> = {};
  for (const key of [...known, ...Object.keys(source).filter((k) => !known.includes(k))]) {
    if (source[key] !== undefined) out[key] = inSchemaOrder(source[key], model[key]);
  }
  return out;
}

function decimal(value: string | number | undefined): string | undefined {
  return value === undefined ? undefined : canonical(value);
}

/** Fills in what depends on where the file and the state live, and writes decimals one canonical way. */
export function effectiveConfig(values: ConfigValues, paths: ConfigPaths, env: NodeJS.ProcessEnv): Config {
  const config = structuredClone(values) as Config;
  const resolvePath = pathResolver(paths.configFile, env);
  config.broker.profile = paths.profile;
  config.broker.coordination_path = paths.coordinationPath;
  if (config.broker.ca_file !== undefined) config.broker.ca_file = resolvePath(config.broker.ca_file);
  config.audit.database_path = paths.storePath;
  const preview = config.order_preview;
  preview.max_order_quantity = decimal(preview.max_order_quantity);
  preview.max_order_notional = decimal(preview.max_order_notional);
  for (const policy of config.live_trading.policies) {
    policy.max_order_quantity = canonical(policy.max_order_quantity);
    policy.max_order_notional = canonical(policy.max_order_notional);
    policy.max_session_notional = decimal(policy.max_session_notional);
  }
  const remote = config.remote_mcp;
  if (remote.audiences.length === 0 && remote.resource !== undefined) remote.audiences = [remote.resource];
  for (const key of ["jwks_ca_file", "tls_cert_file", "tls_key_file"] as const) {
    const file = remote[key];
    if (file !== undefined) remote[key] = resolvePath(file);
  }
  const sidecarCa = config.sidecar.remote_ca_file;
  if (sidecarCa !== undefined) config.sidecar.remote_ca_file = resolvePath(sidecarCa);
  return deepFreeze(inSchemaOrder(config, DEFAULT_VALUES) as Config);
}

type Parse = typeof import("./parse.ts").parseConfigText;

/** The loading steps around the parser, shared by the synchronous and the asynchronous loader. */
export function loadWith(options: LoadConfigOptions, parse: () => Parse): LoadedConfig {
  const env = options.env ?? process.env;
  const home = resolveHome(env, options.home);
  const chosen = configFileOf(options);
  if (chosen === undefined) {
    const values = defaultConfig();
    const paths = resolvePaths(values, { home, configFile: undefined, env });
    return {
      config: effectiveConfig(values, paths, env),
      paths,
      source: "defaults",
      origin: "defaults",
      secrets: createSecrets(values, paths, env),
    };
  }
  const file = resolve(expandHome(chosen, env));
  const parsed = parse()(readConfigFile(file), {
    env,
    file,
    fromFile: true,
    checkEnvironment: options.checkEnvironment ?? true,
  });
  if (parsed.values === undefined) throw configError(parsed.problems, file);
  const paths = resolvePaths(parsed.values, { home, configFile: file, env });
  return {
    config: effectiveConfig(parsed.values, paths, env),
    paths,
    source: file,
    origin: options.file !== undefined ? "option" : "env",
    secrets: createSecrets(parsed.values, paths, env),
  };
}

/** The config file the options name (--config, else $IBKR_AGENT_CONFIG), or undefined for the defaults. */
export function configFileOf(options: LoadConfigOptions): string | undefined {
  const env = options.env ?? process.env;
  const fromEnv =
    env.IBKR_AGENT_CONFIG !== undefined && env.IBKR_AGENT_CONFIG !== "" ? env.IBKR_AGENT_CONFIG : undefined;
  return options.file ?? fromEnv;
}

/**
 * Loads the configuration, importing the parser (YAML and TypeBox's schema, compiler and value functions,
 * about 150 ms) only when there is a file to parse: the safe default mode never pays for it. This is what a
 * gateway start-up uses; loadConfig (load.ts) is the synchronous form for commands and tests.
 */
export async function loadConfigAsync(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const parse =
    configFileOf(options) === undefined ? undefined : (await import("./parse.ts")).parseConfigText;
  return loadWith(options, () => parse as Parse);
}
