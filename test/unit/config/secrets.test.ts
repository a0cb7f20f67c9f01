// Secrets come from the environment only: a secret written into the file is refused by its path, values are
// read when asked for, and the generated default secret is a 0600 file in a 0700 directory.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureAuditSecret, loadConfig, validateConfigText } from "../../../src/config/index.ts";
import type { ConfigPaths } from "../../../src/config/paths.ts";
import { MINIMAL, SECRET, tempDir, testEnv, writeConfig } from "./helpers.ts";

describe("secrets written into the file", () => {
  it("are refused under their key path, with the key to use instead", () => {
    const text = `audit:
  secret: 9f2c1a7be4d84e0bb1f5f0a4c3e6d7a8
  secret_env: AUDIT_SECRET
remote_mcp:
  token_id_hmac_secret: another-inline-secret
  password: hunter2
`;
    expect(validateConfigText(text, testEnv())).toEqual([
      {
        path: "audit.secret",
        problem:
          "holds a secret; secrets are read only from environment variables: put it in one and name the variable in `audit.secret_env`",
        code: "CONFIG_INVALID",
      },
      {
        path: "remote_mcp.password",
        problem:
          "holds a secret; secrets are read only from environment variables: put it in one and name the variable in the matching `*_env` key",
        code: "CONFIG_INVALID",
      },
      {
        path: "remote_mcp.token_id_hmac_secret",
        problem:
          "holds a secret; secrets are read only from environment variables: put it in one and name the variable in `remote_mcp.token_id_hmac_secret_env`",
        code: "CONFIG_INVALID",
      },
    ]);
  });

  it("are refused when a credential sits under an ordinary key, without echoing it", () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl";
    const found = validateConfigText(`${MINIMAL}remote_mcp:\n  audiences: ["${jwt}"]\n`, testEnv());
    expect(found).toEqual([
      {
        path: "remote_mcp.audiences[0]",
        problem:
          "looks like a credential; secrets are read only from environment variables named by `*_env` keys",
        code: "CONFIG_INVALID",
      },
    ]);
    expect(JSON.stringify(found)).not.toContain(jwt);
  });

  it("do not stop the rest of the file from being checked", () => {
    const found = validateConfigText(
      "audit:\n  api_key: abc\n  secret_env: AUDIT_SECRET\nbroker: {bakend: x}\n",
      testEnv(),
    );
    expect(found.map((p) => p.path)).toEqual(["audit.api_key", "broker.bakend"]);
  });
});

describe("the secret accessor", () => {
  it("reads the named variable when asked, not when loading", () => {
    const dir = tempDir();
    const env = testEnv({ IBKR_AGENT_HOME: dir });
    const loaded = loadConfig({ file: writeConfig(dir, MINIMAL), env });
    expect(JSON.stringify(loaded.config)).not.toContain(SECRET);
    expect(loaded.secrets.names).toEqual([{ key: "audit.secret_env", env: "AUDIT_SECRET" }]);
    expect(loaded.secrets.auditSecret().toString("utf8")).toBe(SECRET);
    env.AUDIT_SECRET = "a-rotated-secret-of-more-than-32-bytes";
    expect(loaded.secrets.auditSecret().toString("utf8")).toBe("a-rotated-secret-of-more-than-32-bytes");
    delete env.AUDIT_SECRET;
    expect(() => loaded.secrets.auditSecret()).toThrow(
      /`audit.secret_env` names AUDIT_SECRET, which is not set/,
    );
  });

  it("gives the store everything it needs", () => {
    const dir = tempDir();
    const text =
      "audit:\n  secret_env: AUDIT_SECRET\n  key_id: k2\n  previous_secrets: [{key_id: k1, secret_env: OLD}]\n";
    const loaded = loadConfig({ file: writeConfig(dir, text), env: testEnv({ OLD: `old-${SECRET}` }) });
    const store = loaded.secrets.storeSecrets();
    expect(store.keyId).toBe("k2");
    expect(store.auditSecret.toString()).toBe(SECRET);
    expect(store.previousSecrets.map((p) => [p.keyId, p.secret.toString()])).toEqual([
      ["k1", `old-${SECRET}`],
    ]);
    expect(loaded.secrets.tokenIdHmacSecret()).toBeUndefined();
  });

  it("refuses to load a file whose secret is too short", () => {
    const dir = tempDir();
    let code: string | undefined;
    try {
      loadConfig({ file: writeConfig(dir, MINIMAL), env: { AUDIT_SECRET: "short", IBKR_AGENT_HOME: dir } });
    } catch (error) {
      code = (error as { code: string }).code;
    }
    expect(code).toBe("CONFIG_SECRET_MISSING");
  });
});

function defaultPaths(home: string): ConfigPaths {
  return loadConfig({ env: testEnv({ IBKR_AGENT_HOME: home }) }).paths;
}

describe("the generated audit secret (no config file)", () => {
  it("is created on first use: 64 hex characters, file 0600, directories 0700", () => {
    const home = join(tempDir(), "state");
    const paths = defaultPaths(home);
    expect(existsSync(home)).toBe(false);
    const secret = ensureAuditSecret(paths);
    expect(secret.toString()).toMatch(/^[0-9a-f]{64}$/);
    const file = paths.auditSecretPath ?? "";
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(paths.profileDir).mode & 0o777).toBe(0o700);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, "utf8")).toBe(`${secret.toString()}\n`);
  });

  it("is the same secret on every later run, also through the accessor", () => {
    const home = tempDir();
    const first = ensureAuditSecret(defaultPaths(home));
    expect(ensureAuditSecret(defaultPaths(home)).equals(first)).toBe(true);
    expect(
      loadConfig({ env: testEnv({ IBKR_AGENT_HOME: home }) })
        .secrets.auditSecret()
        .equals(first),
    ).toBe(true);
  });

  it("is refused when other users may read it", () => {
    const paths = defaultPaths(tempDir());
    ensureAuditSecret(paths);
    chmodSync(paths.auditSecretPath ?? "", 0o644);
    expect(() => ensureAuditSecret(paths)).toThrow(/can be read or written by other users/);
  });

  it("is refused when it is a link or too short", () => {
    const paths = defaultPaths(tempDir());
    mkdirSync(paths.profileDir, { recursive: true });
    const elsewhere = join(paths.home, "elsewhere");
    writeFileSync(elsewhere, `${"a".repeat(64)}\n`, { mode: 0o600 });
    symlinkSync(elsewhere, paths.auditSecretPath ?? "");
    expect(() => ensureAuditSecret(paths)).toThrow(/is not a regular file/);
    const other = defaultPaths(tempDir());
    mkdirSync(other.profileDir, { recursive: true });
    writeFileSync(other.auditSecretPath ?? "", "tooshort\n", { mode: 0o600 });
    expect(() => ensureAuditSecret(other)).toThrow(/holds fewer than 32 bytes/);
  });

  it("is not used when a config file names its secret", () => {
    const dir = tempDir();
    const { paths } = loadConfig({ file: writeConfig(dir, MINIMAL), env: testEnv({ IBKR_AGENT_HOME: dir }) });
    expect(() => ensureAuditSecret(paths)).toThrow(
      /comes from the environment variable named in `audit.secret_env`/,
    );
  });
});
