// Access to the secrets a configuration names. Values are read when asked for, never kept in the config
// object, so printing, hashing or logging the config cannot reveal them. With a config file every secret
// comes from an environment variable; without one (the safe local default) the audit secret is generated
// on first run and kept in the profile directory, readable by its owner only.
import { randomBytes } from "node:crypto";
import { GatewayError } from "../core/gateway-error.ts";
import { MIN_SECRET_BYTES, secretShortfall } from "./environment.ts";
import type { ConfigPaths } from "./paths.ts";
import { ensurePrivateFile, type PrivateFileKind, privateFileError } from "./private-file.ts";
import type { ConfigValues } from "./schema.ts";

export interface SecretName {
  /** The key naming the variable, e.g. audit.secret_env. */
  readonly key: string;
  /** The environment variable (names are shown; values never are). */
  readonly env: string;
}

export interface ConfigSecrets {
  /** "env" with a config file, "generated-file" for the safe defaults. */
  readonly mode: "env" | "generated-file";
  /** Every environment variable the config names for a secret. */
  readonly names: readonly SecretName[];
  /** The current audit secret (at least 32 bytes). */
  auditSecret(): Buffer;
  /** Secrets of earlier key ids, to verify events written before a rotation. */
  previousAuditSecrets(): { keyId: string; secret: Buffer }[];
  /** The token-id hashing secret, or undefined to use the key derived from the audit secret. */
  tokenIdHmacSecret(): Buffer | undefined;
  /** Everything the audit store needs (the shape of StoreSecrets in src/store). */
  storeSecrets(): {
    auditSecret: Buffer;
    keyId: string;
    previousSecrets: { keyId: string; secret: Buffer }[];
  };
}

function fromEnv(env: NodeJS.ProcessEnv, key: string, name: string): Buffer {
  const shortfall = secretShortfall(env, name);
  if (shortfall !== undefined) {
    throw new GatewayError("CONFIG_SECRET_MISSING", {
      message: `\`${key}\` ${shortfall}.`,
      details: { problems: [{ path: key, problem: shortfall, code: "CONFIG_SECRET_MISSING" }] },
    });
  }
  return Buffer.from(env[name] ?? "", "utf8");
}

const AUDIT_SECRET_FILE: PrivateFileKind = {
  title: "The audit secret file",
  problemPath: "audit",
  problemName: "the generated secret file",
  widePermissionsAction: (path) =>
    `Run \`chmod 600 ${path}\`, and check nobody else copied it; if unsure, rotate the audit key.`,
  notAFileAction: "Remove it; a new secret is generated on the next run.",
};

function checkedSecret(path: string, text: string): Buffer {
  const secret = Buffer.from(text.trim(), "utf8");
  if (secret.length < MIN_SECRET_BYTES) {
    throw privateFileError(
      AUDIT_SECRET_FILE,
      path,
      `holds fewer than ${MIN_SECRET_BYTES} bytes`,
      "Restore it from your backup of the state directory.",
    );
  }
  return secret;
}

/**
 * The generated audit secret of the default profile: created on first run (32 random bytes as hex, mode 0600,
 * in a 0700 directory), read afterwards. A file others can read, or one owned by someone else, is refused.
 * Processes starting together agree on one secret: the file appears complete or not at all (link, not write).
 */
export function ensureAuditSecret(paths: ConfigPaths): Buffer {
  const path = paths.auditSecretPath;
  if (path === undefined) {
    throw new GatewayError("CONFIG_SECRET_MISSING", {
      message:
        "With a config file the audit secret comes from the environment variable named in `audit.secret_env`.",
      details: {
        problems: [
          { path: "audit.secret_env", problem: "names the audit secret", code: "CONFIG_SECRET_MISSING" },
        ],
      },
    });
  }
  const text = ensurePrivateFile(path, AUDIT_SECRET_FILE, () => `${randomBytes(32).toString("hex")}\n`);
  return checkedSecret(path, text);
}

export function createSecrets(
  values: ConfigValues,
  paths: ConfigPaths,
  env: NodeJS.ProcessEnv,
): ConfigSecrets {
  const audit = values.audit;
  const names: SecretName[] = [];
  if (audit.secret_env !== undefined) names.push({ key: "audit.secret_env", env: audit.secret_env });
  audit.previous_secrets.forEach((previous, index) => {
    names.push({ key: `audit.previous_secrets[${index}].secret_env`, env: previous.secret_env });
  });
  const tokenEnv = values.remote_mcp.token_id_hmac_secret_env;
  if (tokenEnv !== undefined) names.push({ key: "remote_mcp.token_id_hmac_secret_env", env: tokenEnv });
  const generated = audit.secret_env === undefined && paths.auditSecretPath !== undefined;

  const auditSecret = () =>
    generated ? ensureAuditSecret(paths) : fromEnv(env, "audit.secret_env", audit.secret_env ?? "");
  const previousAuditSecrets = () =>
    audit.previous_secrets.map((previous, index) => ({
      keyId: previous.key_id,
      secret: fromEnv(env, `audit.previous_secrets[${index}].secret_env`, previous.secret_env),
    }));
  return {
    mode: generated ? "generated-file" : "env",
    names,
    auditSecret,
    previousAuditSecrets,
    tokenIdHmacSecret: () =>
      tokenEnv === undefined ? undefined : fromEnv(env, "remote_mcp.token_id_hmac_secret_env", tokenEnv),
    storeSecrets: () => ({
      auditSecret: auditSecret(),
      keyId: audit.key_id,
      previousSecrets: previousAuditSecrets(),
    }),
  };
}
