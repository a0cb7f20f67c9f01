// `ibkr-agent config ...` as a user meets it: a spawned process with its own HOME and state directory.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchemaText, verifyOperatorPin } from "../../../src/config/index.ts";
import { cli, ROOT, run } from "../../support/run.ts";
import { SECRET, tempDir } from "./helpers.ts";

function env(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: dir, IBKR_AGENT_HOME: join(dir, "state"), IBKR_AGENT_CONFIG: "", ...extra };
}

const BROKEN = `audit:
  secret_env: CLI_TEST_SECRET
  secret: written-inline
broker:
  backend: client_portal_gateway
  base_url: https://gateway.example.com/v1/api
  allow_insecure_tls_for_localhost: true
  timeout: 5
safety:
  live_trading_enabled: true
auth:
  enabled_scopes: [ibkr:accounts:read, ibkr:everything]
`;

describe("ibkr-agent config validate", () => {
  it("accepts the global --config flag before the command word", async () => {
    const dir = tempDir();
    const file = join(dir, "broken.yaml");
    writeFileSync(file, BROKEN);
    const result = await cli(["--config", file, "config", "validate", "--json"], env(dir));
    expect(result.code).toBe(7);
    expect((JSON.parse(result.stdout) as { error: { code: string } }).error.code).toBe("CONFIG_INVALID");
  });

  it("lists every problem with its path as JSON and exits with CONFIG_INVALID's code", async () => {
    const dir = tempDir();
    const file = join(dir, "broken.yaml");
    writeFileSync(file, BROKEN);
    const result = await cli(["config", "validate", "--config", file, "--json"], env(dir));
    expect(result.code).toBe(7);
    const body = JSON.parse(result.stdout) as {
      error: { code: string; details: { source: string; problems: unknown } };
    };
    expect(body.error.code).toBe("CONFIG_INVALID");
    expect(body.error.details.source).toBe(file);
    expect(body.error.details.problems).toEqual([
      {
        path: "audit.secret",
        problem:
          "holds a secret; secrets are read only from environment variables: put it in one and name the variable in `audit.secret_env`",
        code: "CONFIG_INVALID",
      },
      {
        path: "audit.secret_env",
        problem: "names CLI_TEST_SECRET, which is not set in the environment",
        code: "CONFIG_SECRET_MISSING",
      },
      {
        path: "auth.enabled_scopes[1]",
        problem:
          "is not a known scope (the scopes are listed in docs/reference/scopes.md and by `ibkr-agent tools list`)",
        code: "AUTH_SCOPE_UNKNOWN",
      },
      {
        path: "broker.allow_insecure_tls_for_localhost",
        problem:
          "is allowed only when broker.base_url's host is localhost, 127.0.0.1 or [::1]; pin the certificate with broker.ca_file instead",
        code: "CONFIG_TLS_BYPASS_NON_LOCALHOST",
      },
      { path: "broker.timeout", problem: "unknown key; did you mean `timeouts`?", code: "CONFIG_INVALID" },
      {
        path: "live_trading.enabled",
        problem:
          "must be true when safety.live_trading_enabled is true: the feature flag and its safety flag must agree",
        code: "CONFIG_LIVE_TRADING_FORBIDDEN",
      },
    ]);
    expect(result.stdout).not.toContain("written-inline");
  });

  it("prints the problems for a person too", async () => {
    const dir = tempDir();
    const file = join(dir, "broken.yaml");
    writeFileSync(file, BROKEN);
    const result = await cli(["config", "validate", "--config", file], env(dir));
    expect(result.code).toBe(7);
    expect(result.stdout).toContain("6 problems:\n");
    expect(result.stdout).toContain("  broker.timeout: unknown key; did you mean `timeouts`?\n");
    expect(result.stderr).toContain("Error CONFIG_INVALID:");
    expect(result.stderr).toContain("What to do: Run `ibkr-agent config validate`");
  });

  it("accepts a good file, found through IBKR_AGENT_CONFIG", async () => {
    const dir = tempDir();
    const file = join(dir, "good.yaml");
    writeFileSync(file, "audit:\n  secret_env: CLI_TEST_SECRET\n");
    const result = await cli(
      ["config", "validate", "--json"],
      env(dir, { IBKR_AGENT_CONFIG: file, CLI_TEST_SECRET: SECRET }),
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: true,
      source: file,
      profile: "simulator",
      problems: [],
    });
  });

  it("says the safe defaults are in use without a file", async () => {
    const dir = tempDir();
    const result = await cli(["config", "validate"], env(dir));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("No config file: the safe defaults are in use");
    expect(existsSync(join(dir, "state"))).toBe(false);
  });
});

describe("ibkr-agent config init", () => {
  it("writes a commented file that validates, and refuses to overwrite it without --force", async () => {
    const dir = tempDir();
    const file = join(dir, "ibkr-agent.yaml");
    const first = await cli(["config", "init", "--out", file, "--json"], env(dir));
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      written: file,
      next_steps: [
        'export IBKR_AGENT_AUDIT_SECRET="$(openssl rand -hex 32)"',
        `export IBKR_AGENT_CONFIG=${JSON.stringify(file)}`,
        "ibkr-agent config validate",
      ],
    });
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^# yaml-language-server: \$schema=.*config\.schema\.json\n/);
    expect(text).toContain("# Secrets never go in this file.");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const check = await cli(
      ["config", "validate", "--config", file],
      env(dir, { IBKR_AGENT_AUDIT_SECRET: SECRET }),
    );
    expect(check.code).toBe(0);

    writeFileSync(file, "# edited by hand\n");
    const again = await cli(["config", "init", "--out", file, "--json"], env(dir));
    expect(again.code).toBe(2);
    expect((JSON.parse(again.stdout) as { error: { code: string } }).error.code).toBe(
      "INPUT_INVALID_ARGUMENT",
    );
    expect(readFileSync(file, "utf8")).toBe("# edited by hand\n");
    const forced = await cli(["config", "init", "--out", file, "--force"], env(dir));
    expect(forced.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(text);
  });
});

describe("ibkr-agent config show", () => {
  it("prints the effective config with env names, never secret values or the PIN hash", async () => {
    const dir = tempDir();
    const file = join(dir, "c.yaml");
    const pinHash =
      "$scrypt$ln=14,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U";
    writeFileSync(file, `audit:\n  secret_env: CLI_TEST_SECRET\noperator:\n  pin_hash: '${pinHash}'\n`);
    const result = await cli(
      ["config", "show", "--config", file, "--json"],
      env(dir, { CLI_TEST_SECRET: SECRET }),
    );
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as {
      source: string;
      secrets: unknown;
      paths: { profileDir: string };
      config: {
        audit: { secret_env: string };
        operator: { pin_hash: string };
        broker: { keep_alive_interval_seconds: number };
      };
    };
    expect(body.source).toBe(file);
    expect(body.secrets).toEqual([{ key: "audit.secret_env", env: "CLI_TEST_SECRET", set: true }]);
    expect(body.config.audit.secret_env).toBe("CLI_TEST_SECRET");
    expect(body.config.operator.pin_hash).toBe("[REDACTED]");
    expect(body.config.broker.keep_alive_interval_seconds).toBe(60);
    expect(body.paths.profileDir).toBe(join(dir, "state", "profiles", "simulator"));
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout).not.toContain(pinHash);

    const human = await cli(["config", "show", "--config", file], env(dir));
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("# secret audit.secret_env: $CLI_TEST_SECRET (NOT SET or too short)\n");
    expect(human.stdout).toContain('  pin_hash: "[REDACTED]"\n');
  });
});

describe("ibkr-agent config schema and set-pin", () => {
  it("prints the published JSON Schema", async () => {
    const result = await cli(["config", "schema"], env(tempDir()));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(configJsonSchemaText());
  });

  it("stores the PIN read from stdin as a hash, keeping the file's comments", async () => {
    const dir = tempDir();
    const file = join(dir, "c.yaml");
    writeFileSync(file, "# my settings\naudit:\n  secret_env: CLI_TEST_SECRET # the audit secret\n");
    const result = await run(
      process.execPath,
      [join(ROOT, "src/cli/bin.ts"), "config", "set-pin", "--config", file],
      {
        env: { ...process.env, ...env(dir) },
        input: "246810\n",
      },
    );
    expect(result.code).toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# my settings\n");
    expect(text).toContain("secret_env: CLI_TEST_SECRET # the audit secret\n");
    expect(text).not.toContain("246810");
    const hash = /pin_hash: "?([^"\n]+)"?/.exec(text)?.[1] ?? "";
    expect(verifyOperatorPin("246810", hash)).toBe(true);
  });
});
