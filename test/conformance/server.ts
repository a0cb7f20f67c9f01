// The server under conformance test: our Streamable HTTP MCP server in local mode (loopback, a random
// bearer token, the locally configured scopes) on the in-process simulator, exactly as the e2e suites start
// it. The conformance tool's server mode connects without credentials (it has no option for a header), so
// it talks to a loopback pass-through in front of the server that adds `Authorization: Bearer <token>` to
// every request - what any MCP client configured with a bearer header sends - and changes nothing else:
// method, path, Host, Origin and body reach the server as the tool sent them (the DNS-rebinding scenario
// depends on that), and answers (JSON or SSE streams) come back unbuffered.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomLocalToken } from "../../src/auth/index.ts";
import { type McpHttpHarness, startMcpHttp } from "../support/mcp-http.ts";

export interface ConformanceTarget {
  /** The URL to hand to the conformance tool (the pass-through's /mcp). */
  readonly url: string;
  readonly harness: McpHttpHarness;
  close(): Promise<void>;
}

/** Forwards one request to `upstream` with the bearer token added. */
function forward(upstream: URL, token: string, req: IncomingMessage, res: ServerResponse): void {
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  const outgoing = httpRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  outgoing.on("error", () => res.destroy());
  // A client that goes away (an SSE stream it is done with) ends the upstream request too.
  res.on("close", () => outgoing.destroy());
  req.pipe(outgoing);
}

export async function startConformanceTarget(): Promise<ConformanceTarget> {
  const token = randomLocalToken();
  // The tool opens a session per scenario and never ends one (its client closes without DELETE), and sends
  // a few hundred requests within seconds, all as the one local principal: the per-subject session cap
  // (10) and the per-caller rate limit (120 a minute) would refuse it half-way, so both are raised here.
  const harness = await startMcpHttp({
    localToken: token,
    remote: { max_sessions_per_subject: 200, rate_limit: { max_requests: 100_000 } },
  });
  const upstream = new URL(harness.url);
  const proxy = createServer((req, res) => forward(upstream, token, req, res));
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    harness,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await harness.close();
    },
  };
}
