// Checks that look outside the file: the environment variables it names and the files it points at. They
// run at start and in `config validate`, so a deployment learns of a missing secret before the first call
// instead of at it. Only names are reported, never what a variable holds.
import { statSync } from "node:fs";
import { type ConfigProblem, problem } from "./problems.ts";
import type { ConfigValues } from "./schema.ts";

/** Smallest secret accepted, the same floor as the audit key derivation (src/store/keys.ts). */
export const MIN_SECRET_BYTES = 32;

/** Why a named variable cannot serve as a secret, or undefined when it can. */
export function secretShortfall(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === "") return `names ${name}, which is not set in the environment`;
  if (Buffer.byteLength(value, "utf8") < MIN_SECRET_BYTES) {
    return `names ${name}, which holds fewer than ${MIN_SECRET_BYTES} bytes; use at least ${MIN_SECRET_BYTES} random bytes (e.g. openssl rand -hex 32)`;
  }
  return undefined;
}

export interface EnvironmentContext {
  readonly env: NodeJS.ProcessEnv;
  /** Turns a path from the file into the absolute path it means (relative to the file, ~ expanded). */
  readonly resolvePath: (path: string) => string;
}

export function environmentProblems(c: ConfigValues, context: EnvironmentContext): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const secret = (path: string, name: string | undefined) => {
    if (name === undefined) return;
    const shortfall = secretShortfall(context.env, name);
    if (shortfall !== undefined) out.push(problem(path, shortfall, "CONFIG_SECRET_MISSING"));
  };
  secret("audit.secret_env", c.audit.secret_env);
  c.audit.previous_secrets.forEach((previous, index) => {
    secret(`audit.previous_secrets[${index}].secret_env`, previous.secret_env);
  });
  if (c.remote_mcp.enabled)
    secret("remote_mcp.token_id_hmac_secret_env", c.remote_mcp.token_id_hmac_secret_env);
  const file = (path: string, name: string | undefined) => {
    if (name === undefined) return;
    let isFile = false;
    try {
      isFile = statSync(context.resolvePath(name)).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) out.push(problem(path, "names a file that does not exist or cannot be read"));
  };
  if (c.broker.backend === "client_portal_gateway") file("broker.ca_file", c.broker.ca_file);
  file("remote_mcp.jwks_ca_file", c.remote_mcp.jwks_ca_file);
  file("remote_mcp.tls_cert_file", c.remote_mcp.tls_cert_file);
  file("remote_mcp.tls_key_file", c.remote_mcp.tls_key_file);
  file("sidecar.remote_ca_file", c.sidecar.remote_ca_file);
  return out;
}
