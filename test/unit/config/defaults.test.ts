// With no config file the gateway runs its safe default: the simulator, read scopes only, state under
// $IBKR_AGENT_HOME, and a generated audit secret.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type ConfigValues,
  defaultConfig,
  loadConfig,
  validateConfigText,
} from "../../../src/config/index.ts";
import { isGatewayError } from "../../../src/core/gateway-error.ts";
import { MINIMAL, tempDir, testEnv, writeConfig } from "./helpers.ts";

const READ_SCOPES = [
  "ibkr:accounts:read",
  "ibkr:audit:export",
  "ibkr:audit:read",
  "ibkr:calendar:read",
  "ibkr:currency:read",
  "ibkr:fundamentals:read",
  "ibkr:health:read",
  "ibkr:marketdata:depth:read",
  "ibkr:marketdata:read",
  "ibkr:news:read",
  "ibkr:options:read",
  "ibkr:orders:read",
  "ibkr:portfolio:read",
  "ibkr:positions:read",
  "ibkr:risk:read",
  "ibkr:scanner:read",
  "ibkr:transfers:read",
];

describe("the safe defaults", () => {
  it("use the simulator, read scopes and nothing that can place an order", () => {
    const home = tempDir();
    const loaded = loadConfig({ env: testEnv({ IBKR_AGENT_HOME: home }) });
    expect(loaded.source).toBe("defaults");
    expect(loaded.origin).toBe("defaults");
    const c = loaded.config;
    expect(c.broker.backend).toBe("simulator");
    expect(c.broker.profile).toBe("simulator");
    expect(c.broker.base_url).toBe("https://localhost:5000/v1/api");
    expect(c.broker.keep_alive_interval_seconds).toBe(60);
    expect(c.broker.allow_session_init).toBe(false);
    expect(c.broker.allow_session_compete).toBe(false);
    expect(c.broker.allow_insecure_tls_for_localhost).toBe(false);
    expect(c.broker.simulator).toEqual({ scenario: "healthy", seed: 1 });
    expect(c.auth.enabled_scopes).toEqual(READ_SCOPES);
    expect(c.safety).toEqual({
      paper_trading_enabled: false,
      live_trading_enabled: false,
      remote_mcp_enabled: false,
      sidecar_enabled: false,
      write_tools_enabled: false,
      direct_broker_oauth_enabled: false,
    });
    expect(c.order_preview.enabled).toBe(false);
    expect(c.paper_trading.enabled).toBe(false);
    expect(c.live_trading.enabled).toBe(false);
    expect(c.live_trading.policies).toEqual([]);
    expect(c.remote_mcp.enabled).toBe(false);
    expect(c.sidecar.enabled).toBe(false);
    expect(c.audit.retention_days).toBe(2555);
    expect(c.audit.secret_env).toBeUndefined();
    expect(c.reconciler_interval_seconds).toBe(5);
    expect(loaded.secrets.mode).toBe("generated-file");
  });

  it("keep state under $IBKR_AGENT_HOME, per profile", () => {
    const home = tempDir();
    const { paths, config } = loadConfig({ env: testEnv({ IBKR_AGENT_HOME: home }) });
    expect(paths).toEqual({
      home,
      profile: "simulator",
      profileDir: join(home, "profiles", "simulator"),
      storePath: join(home, "profiles", "simulator", "state.sqlite"),
      coordinationPath: join(home, "profiles", "simulator", "coordination.sqlite"),
      auditSecretPath: join(home, "profiles", "simulator", "audit-secret"),
      configFile: undefined,
    });
    expect(config.audit.database_path).toBe(join(home, "profiles", "simulator", "state.sqlite"));
    expect(config.broker.coordination_path).toBe(join(home, "profiles", "simulator", "coordination.sqlite"));
  });

  it("default the home to ~/.ibkr-agent", () => {
    const user = tempDir();
    const { paths } = loadConfig({ env: testEnv({ HOME: user }) });
    expect(paths.home).toBe(join(user, ".ibkr-agent"));
  });

  it("refuse a relative $IBKR_AGENT_HOME, which would follow the working directory", () => {
    let thrown: unknown;
    try {
      loadConfig({ env: testEnv({ IBKR_AGENT_HOME: "state" }) });
    } catch (error) {
      thrown = error;
    }
    expect(isGatewayError(thrown)).toBe(true);
    expect((thrown as { code: string }).code).toBe("CONFIG_INVALID");
    expect((thrown as { details: { problems: unknown } }).details.problems).toEqual([
      {
        path: "$IBKR_AGENT_HOME",
        problem: "must be an absolute path (a relative one depends on the working directory)",
        code: "CONFIG_INVALID",
      },
    ]);
  });

  it("are returned as a fresh object each time", () => {
    const first = defaultConfig();
    first.auth.enabled_scopes.push("ibkr:orders:preview");
    expect(defaultConfig().auth.enabled_scopes).toEqual(READ_SCOPES);
  });

  it("are typed with the literal choices of the schema", () => {
    const values = defaultConfig();
    const backend: "simulator" | "client_portal_gateway" | "relay" = values.broker.backend;
    const writer: "broker" | "local_candidate" = values.paper_trading.writer;
    // @ts-expect-error a backend the schema does not know is a type error, not just a runtime problem
    const unknown: ConfigValues["broker"]["backend"] = "fake";
    expect([backend, writer, unknown]).toEqual(["simulator", "broker", "fake"]);
  });

  it("give a frozen effective config", () => {
    const { config } = loadConfig({ env: testEnv({ IBKR_AGENT_HOME: tempDir() }) });
    expect(Object.isFrozen(config.broker)).toBe(true);
    expect(() => {
      (config.auth.enabled_scopes as string[]).push("ibkr:orders:live:submit");
    }).toThrow(TypeError);
  });
});

describe("choosing the file", () => {
  it("reads $IBKR_AGENT_CONFIG when no file is passed", () => {
    const dir = tempDir();
    const file = writeConfig(dir, `${MINIMAL}market_data:\n  allow_delayed: true\n`);
    const loaded = loadConfig({ env: testEnv({ IBKR_AGENT_CONFIG: file, IBKR_AGENT_HOME: dir }) });
    expect(loaded.source).toBe(file);
    expect(loaded.origin).toBe("env");
    expect(loaded.config.market_data.allow_delayed).toBe(true);
    expect(loaded.paths.auditSecretPath).toBeUndefined();
    expect(loaded.secrets.mode).toBe("env");
  });

  it("prefers the file passed by the caller", () => {
    const dir = tempDir();
    const fromEnv = writeConfig(dir, `${MINIMAL}logging:\n  level: warn\n`, "env.yaml");
    const passed = writeConfig(dir, `${MINIMAL}logging:\n  level: debug\n`, "passed.yaml");
    const loaded = loadConfig({
      file: passed,
      env: testEnv({ IBKR_AGENT_CONFIG: fromEnv, IBKR_AGENT_HOME: dir }),
    });
    expect(loaded.origin).toBe("option");
    expect(loaded.config.logging.level).toBe("debug");
  });

  it("reports a missing file as a config problem", () => {
    const dir = tempDir();
    expect(() =>
      loadConfig({ file: join(dir, "nope.yaml"), env: testEnv({ IBKR_AGENT_HOME: dir }) }),
    ).toThrow(/has 1 problem\. First: the file does not exist/);
  });

  it("accepts a file that only names the audit secret, and fills in every default", () => {
    expect(validateConfigText(MINIMAL, testEnv())).toEqual([]);
    const dir = tempDir();
    const loaded = loadConfig({ file: writeConfig(dir, MINIMAL), env: testEnv({ IBKR_AGENT_HOME: dir }) });
    const { audit, ...rest } = loaded.config;
    const defaults = loadConfig({ env: testEnv({ IBKR_AGENT_HOME: dir }) }).config;
    const { audit: defaultAudit, ...defaultRest } = defaults;
    expect(rest).toEqual(defaultRest);
    expect(audit).toEqual({ ...defaultAudit, secret_env: "AUDIT_SECRET" });
  });

  it("resolves relative paths next to the file", () => {
    const dir = tempDir();
    const file = writeConfig(
      dir,
      `${MINIMAL}  database_path: data/audit.sqlite\nbroker:\n  coordination_path: ~/coord.sqlite\n`,
    );
    const loaded = loadConfig({ file, env: testEnv({ IBKR_AGENT_HOME: dir, HOME: "/home/someone" }) });
    expect(loaded.paths.storePath).toBe(join(dir, "data", "audit.sqlite"));
    expect(loaded.paths.coordinationPath).toBe("/home/someone/coord.sqlite");
  });
});
