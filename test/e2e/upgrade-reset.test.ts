// A peer that sends an upgrade request and then resets the connection (TCP RST) must cost that connection
// only. Node's plain-HTTP server leaves an upgraded socket with no 'error' listener, so without our guard
// the reset is an uncaught exception and the process ends: anyone who can reach the MCP server could stop
// it. `mcp serve --transport http` runs as a real process; its /relay upgrade is refused (the gateway is
// not a relay), as are upgrades of other paths. (The simulator serves TLS only, whose sockets keep Node's
// TLS error listener.)
import { rmSync } from "node:fs";
import { connect as connectTcp, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/mcp-http.ts";
import { startServingCli } from "../support/mcp-http-cli.ts";

/** Sends a WebSocket upgrade request for `path`, waits `pauseMs`, then resets the TCP connection. */
function upgradeThenReset(port: number, path: string, pauseMs: number): Promise<void> {
  return new Promise((done, fail) => {
    const tcp: Socket = connectTcp(port, "127.0.0.1");
    tcp.on("error", () => undefined);
    const request =
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    const reset = () =>
      setTimeout(() => {
        tcp.resetAndDestroy();
        done();
      }, pauseMs);
    tcp.once("connect", () => tcp.write(request, reset));
    tcp.once("error", fail);
  });
}

/** Resets upgrades at every pause from 0 to 9 ms, so some land before and some after the server answers. */
async function resetMany(port: number, paths: readonly string[]): Promise<void> {
  for (let pauseMs = 0; pauseMs < 10; pauseMs += 1) {
    await Promise.all(paths.map((path) => upgradeThenReset(port, path, pauseMs)));
  }
  // Long enough for the server to read every reset.
  await new Promise((settle) => setTimeout(settle, 200));
}

describe("a reset after an upgrade request ends that connection, not the MCP HTTP server", () => {
  it("mcp serve --transport http keeps serving", async () => {
    const home = tempDir("ibkr-upgrade-reset-");
    const env: NodeJS.ProcessEnv = { ...process.env, IBKR_AGENT_HOME: home };
    delete env.IBKR_AGENT_CONFIG;
    const server = await startServingCli(["--bind", "127.0.0.1:0"], env);
    try {
      const url = new URL(server.endpoint);
      await resetMany(Number(url.port), ["/relay", "/mcp", "/elsewhere"]);
      expect(server.child.exitCode).toBeNull();
      expect(server.child.signalCode).toBeNull();
      const health = await fetch(new URL("/healthz", url));
      expect(health.status).toBe(200);
      expect(server.stderr()).not.toContain("ECONNRESET");
    } finally {
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
