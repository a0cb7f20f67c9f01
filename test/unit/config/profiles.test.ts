// State is kept per broker profile, so simulated and real orders, idempotency keys and the kill switch
// never share a database.
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureAuditSecret, ensureProfileDir, loadConfig } from "../../../src/config/index.ts";
import { MINIMAL, tempDir, testEnv, writeConfig } from "./helpers.ts";

function load(home: string, text: string) {
  return loadConfig({
    file: writeConfig(home, `${MINIMAL}${text}`, "c.yaml"),
    env: testEnv({ IBKR_AGENT_HOME: home }),
  });
}

describe("broker profiles", () => {
  it("give the simulator and the real gateway different state files by default", () => {
    const home = tempDir();
    const simulated = load(home, "broker: {backend: simulator}\n").paths;
    const real = load(home, "broker: {backend: client_portal_gateway}\n").paths;
    expect(simulated.profile).toBe("simulator");
    expect(real.profile).toBe("client-portal");
    expect(real.profileDir).toBe(join(home, "profiles", "client-portal"));
    expect(real.storePath).toBe(join(home, "profiles", "client-portal", "state.sqlite"));
    expect(real.coordinationPath).toBe(join(home, "profiles", "client-portal", "coordination.sqlite"));
    expect(simulated.storePath).not.toBe(real.storePath);
    expect(simulated.coordinationPath).not.toBe(real.coordinationPath);
  });

  it("follow broker.profile when it is set", () => {
    const home = tempDir();
    const loaded = load(home, "broker: {backend: client_portal_gateway, profile: paper-login}\n");
    expect(loaded.paths.profileDir).toBe(join(home, "profiles", "paper-login"));
    expect(loaded.config.broker.profile).toBe("paper-login");
  });

  it("keep the generated secret of each profile apart", () => {
    const home = tempDir();
    const a = loadConfig({ env: testEnv({ IBKR_AGENT_HOME: home }) }).paths;
    expect(a.auditSecretPath).toBe(join(home, "profiles", "simulator", "audit-secret"));
    ensureAuditSecret(a);
    expect(statSync(a.auditSecretPath ?? "").isFile()).toBe(true);
  });

  it("record their backend and refuse a profile that belongs to another one", () => {
    const home = tempDir();
    const real = load(home, "broker: {backend: client_portal_gateway, profile: shared}\n");
    ensureProfileDir(real.paths, real.config.broker.backend);
    expect(JSON.parse(readFileSync(join(real.paths.profileDir, "profile.json"), "utf8"))).toEqual({
      format: "ibkr-agent-profile",
      backend: "client_portal_gateway",
    });
    expect(statSync(real.paths.profileDir).mode & 0o777).toBe(0o700);
    ensureProfileDir(real.paths, "client_portal_gateway");
    const simulated = load(home, "broker: {backend: simulator, profile: shared}\n");
    expect(() => ensureProfileDir(simulated.paths, simulated.config.broker.backend)).toThrow(
      'The profile "shared" holds the state of another backend (client_portal_gateway), not simulator.',
    );
  });

  it("tighten a profile directory created with wider permissions", () => {
    const home = tempDir();
    const { paths } = loadConfig({ env: testEnv({ IBKR_AGENT_HOME: home }) });
    mkdirSync(paths.profileDir, { recursive: true, mode: 0o755 });
    ensureProfileDir(paths, "simulator");
    expect(statSync(paths.profileDir).mode & 0o777).toBe(0o700);
  });
});
