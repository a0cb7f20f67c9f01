// The baseline of the HTTP MCP benchmark: a bare MCP SDK server (the low-level Server on the SDK's
// Streamable HTTP transport, stateful sessions, JSON answers) on node:http that verifies the bearer token
// on every request exactly as a minimal resource server would with jose - jwtVerify over a remote JWKS
// (the same key set, fetched over https with the same CA, cached), issuer, audience, algorithms, expiry -
// and whose one tool does only the work no gateway can avoid for the measured read: the same CPAPI client
// function against the same in-process simulator, and one INSERT of a same-size row at synchronous=FULL
// (WAL). Nothing else: no scopes, limits, origin checks, validation, mapping, redaction, audit chain or
// rendering.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { DatabaseSync } from "node:sqlite";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { createRemoteJWKSet, customFetch, jwtVerify } from "jose";
import { Agent, fetch as undiciFetch } from "undici";
import { getAccountMeta } from "../../generated/cpapi/client.gen.ts";
import { createCpapiClient } from "../../src/cpapi/index.ts";
import type { Simulator } from "../../src/simulator/index.ts";

export interface BareServerOptions {
  readonly sim: Simulator;
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly ca: string;
  readonly port: number;
  readonly dbPath: string;
  readonly accountId: string;
}

export interface BareServer {
  readonly url: string;
  /** Bytes of the row each call inserts (set to the size of the gateway's audit row before timing). */
  rowBytes: number;
  close(): Promise<void>;
}

export async function startBareMcpHttpServer(options: BareServerOptions): Promise<BareServer> {
  const url = `http://127.0.0.1:${options.port}/mcp`;
  const cpapi = createCpapiClient({
    baseUrl: "https://localhost:5000/v1/api",
    dispatcher: options.sim.dispatcher(),
    clock: options.sim.clock,
    pacingProfile: "bench",
  });
  const db = new DatabaseSync(options.dbPath);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO rows (payload) VALUES (?)");
  let row = "x".repeat(1100);

  const agent = new Agent({ connect: { ca: options.ca } });
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), {
    [customFetch]: ((input: string, init: object) =>
      undiciFetch(input, { ...init, dispatcher: agent } as never)) as unknown as typeof fetch,
  });

  const mcpServer = () => {
    const server = new Server({ name: "bare", version: "1" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: "echo", description: "echo", inputSchema: { type: "object", properties: {} } }],
    }));
    server.setRequestHandler(CallToolRequestSchema, async () => {
      const meta = await getAccountMeta(cpapi.transport, { path: { accountId: options.accountId } });
      insert.run(row);
      const body = meta.body as unknown as Record<string, unknown>;
      return { content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body };
    });
    return server;
  };

  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const verify = async (req: IncomingMessage): Promise<AuthInfo | undefined> => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (token === undefined) return undefined;
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        audience: url,
        algorithms: ["RS256", "ES256"],
        requiredClaims: ["exp"],
      });
      return { token, clientId: String(payload.sub), scopes: String(payload.scope ?? "").split(" ") };
    } catch {
      return undefined;
    }
  };

  const http = createServer(async (req, res) => {
    const auth = await verify(req);
    if (auth === undefined) {
      res.writeHead(401, { "www-authenticate": "Bearer" }).end();
      return;
    }
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    const id = req.headers["mcp-session-id"];
    let transport = typeof id === "string" ? sessions.get(id) : undefined;
    if (transport === undefined) {
      if (id !== undefined) {
        res.writeHead(404).end();
        return;
      }
      const fresh = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (sessionId) => {
          sessions.set(sessionId, fresh);
        },
      });
      await mcpServer().connect(fresh);
      transport = fresh;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(options.port, "127.0.0.1", resolve));
  const bound = (http.address() as AddressInfo).port;
  if (bound !== options.port) throw new Error("the bare server did not bind its port");

  return {
    url,
    get rowBytes() {
      return row.length;
    },
    set rowBytes(bytes: number) {
      row = "x".repeat(bytes);
    },
    async close() {
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await agent.close();
      await cpapi.close();
      db.close();
    },
  };
}
