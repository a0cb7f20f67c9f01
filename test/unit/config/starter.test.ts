// The starter file: commented, valid as written, and turning nothing on.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  defaultConfig,
  STARTER_AUDIT_SECRET_ENV,
  starterConfig,
  validateConfigText,
} from "../../../src/config/index.ts";
import { SECRET } from "./helpers.ts";

const text = starterConfig({ schemaRef: "/opt/ibkr-agent/docs/config.schema.json" });

describe("the starter file", () => {
  it("points editors at the JSON Schema on its first line", () => {
    expect(text.split("\n")[0]).toBe(
      "# yaml-language-server: $schema=/opt/ibkr-agent/docs/config.schema.json",
    );
  });

  it("validates once its audit secret is in the environment", () => {
    expect(validateConfigText(text, { [STARTER_AUDIT_SECRET_ENV]: SECRET })).toEqual([]);
    expect(validateConfigText(text, {}).map((p) => [p.path, p.code])).toEqual([
      ["audit.secret_env", "CONFIG_SECRET_MISSING"],
    ]);
  });

  it("is commented throughout, including the blocks left disabled", () => {
    const comments = text.split("\n").filter((line) => line.trimStart().startsWith("#"));
    expect(comments.length).toBeGreaterThan(40);
    expect(text).toContain("# live_trading:\n#   enabled: true");
    expect(text).toContain("# remote_mcp:\n#   enabled: true");
    expect(text).toContain(`export ${STARTER_AUDIT_SECRET_ENV}="$(openssl rand -hex 32)"`);
  });

  it("turns nothing on beyond the defaults", () => {
    const values = parse(text) as Record<string, Record<string, unknown>>;
    const defaults = defaultConfig();
    expect(values.safety).toEqual({
      paper_trading_enabled: false,
      live_trading_enabled: false,
      remote_mcp_enabled: false,
      sidecar_enabled: false,
    });
    expect(values.auth?.enabled_scopes).toEqual(defaults.auth.enabled_scopes);
    expect(values.broker?.backend).toBe("simulator");
    expect(values.order_preview?.enabled).toBe(false);
    expect(values.paper_trading?.enabled).toBe(false);
    expect(values.live_trading).toBeUndefined();
    expect(values.remote_mcp).toBeUndefined();
  });

  it("names no secret value, only the variable", () => {
    expect((parse(text) as { audit: Record<string, unknown> }).audit).toEqual({
      secret_env: "IBKR_AGENT_AUDIT_SECRET",
      key_id: "k1",
      retention_days: 2555,
    });
  });
});

describe("the commented examples in the starter file", () => {
  it("validate once uncommented with their safety flags", () => {
    let inBlock = false;
    const lines = text.split("\n").map((line) => {
      if (line === "# live_trading:" || line === "# remote_mcp:") inBlock = true;
      else if (line === "") inBlock = false;
      return inBlock ? line.replace(/^# ?/, "") : line;
    });
    const enabled = lines
      .join("\n")
      .replace("live_trading_enabled: false", "live_trading_enabled: true")
      .replace("remote_mcp_enabled: false", "remote_mcp_enabled: true")
      .replace("order_preview:\n  enabled: false", "order_preview:\n  enabled: true")
      .replace("account_modes: [paper]", "account_modes: [paper, live]");
    const values = parse(enabled) as { live_trading: { enabled: boolean }; remote_mcp: { enabled: boolean } };
    expect([values.live_trading.enabled, values.remote_mcp.enabled]).toEqual([true, true]);
    expect(validateConfigText(enabled, { [STARTER_AUDIT_SECRET_ENV]: SECRET })).toEqual([]);
  });
});
