// The baseline of the MCP stdio benchmark: a bare MCP SDK server with one echo-like tool that does only the
// work no gateway can avoid for the measured read - the same in-process simulator request the tool makes,
// and one INSERT of a same-size row at synchronous=FULL - and nothing else (no validation, scopes, mapping,
// redaction, audit chain or rendering).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { request } from "undici";
import { createSimulator } from "../../src/simulator/index.ts";

const BASE = "https://localhost:5055/v1/api";
const sim = createSimulator({ pacing: "bench" });
const dispatcher = sim.dispatcher();
const get = async (path: string) => {
  const answer = await request(`${BASE}${path}`, { dispatcher, headers: { accept: "application/json" } });
  return JSON.parse(await answer.body.text()) as unknown;
};
await get("/portfolio/accounts");

const db = new DatabaseSync(join(mkdtempSync(join(tmpdir(), "bare-mcp-")), "rows.db"));
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
db.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT)");
const insert = db.prepare("INSERT INTO rows (payload) VALUES (?)");
const ROW = "x".repeat(Number(process.env.BARE_ROW_BYTES ?? 1100));

const server = new Server({ name: "bare", version: "1" }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [{ name: "echo", description: "echo", inputSchema: { type: "object", properties: {} } }],
}));
server.setRequestHandler(CallToolRequestSchema, async () => {
  const body = (await get("/portfolio/DU1234567/meta")) as Record<string, unknown>;
  insert.run(ROW);
  return { content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body };
});
await server.connect(new StdioServerTransport());
