// One function maps the configuration to the broker client's options; the client accepts what it returns.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cpapiClientOptions,
  ensureProfileDir,
  loadConfig,
  MIN_SECRET_BYTES,
} from "../../../src/config/index.ts";
import { type CpapiClientOptions, createCpapiClient } from "../../../src/cpapi/index.ts";
import { MIN_SECRET_BYTES as STORE_MIN_SECRET_BYTES } from "../../../src/store/index.ts";
import { MINIMAL, tempDir, testEnv, writeConfig } from "./helpers.ts";

describe("cpapiClientOptions", () => {
  it("maps every broker key to the client option of the same meaning", () => {
    const dir = tempDir();
    const text = `${MINIMAL}broker:
  backend: client_portal_gateway
  base_url: https://127.0.0.1:5001/v1/api
  allow_insecure_tls_for_localhost: true
  ca_file: certs/gateway.pem
  timeouts: {connect_ms: 1000, headers_ms: 2000, body_ms: 3000}
  max_response_bytes: 1048576
  keep_alive_interval_seconds: 45
  allow_session_init: true
`;
    const { config, paths } = loadConfig({
      file: writeConfig(dir, text),
      env: testEnv({ IBKR_AGENT_HOME: dir }),
      checkEnvironment: false,
    });
    const options: CpapiClientOptions = cpapiClientOptions(config, paths);
    expect(options).toEqual({
      baseUrl: "https://127.0.0.1:5001/v1/api",
      caFile: join(dir, "certs", "gateway.pem"),
      allowInsecureTlsForLocalhost: true,
      timeouts: { connectMs: 1000, headersMs: 2000, bodyMs: 3000 },
      maxResponseBytes: 1048576,
      coordinationPath: join(dir, "profiles", "client-portal", "coordination.sqlite"),
      keepAliveIntervalMs: 45000,
      allowSessionInit: true,
    });
  });

  it("gives options the broker client accepts as they are", async () => {
    const home = tempDir();
    const { config, paths } = loadConfig({ env: testEnv({ IBKR_AGENT_HOME: home }) });
    const options = cpapiClientOptions(config, paths);
    expect("caFile" in options).toBe(false);
    // The coordination file lives in the profile directory; the composition root creates it first.
    ensureProfileDir(paths, config.broker.backend);
    const client = createCpapiClient(options);
    expect(client.baseUrl).toBe("https://localhost:5000/v1/api");
    expect(client.tlsMode()).toBe("system");
    await client.close();
  });

  it("uses the same secret floor as the audit store", () => {
    expect(MIN_SECRET_BYTES).toBe(32);
    expect(STORE_MIN_SECRET_BYTES).toBe(32);
  });
});
