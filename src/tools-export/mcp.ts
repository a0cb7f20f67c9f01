// MCP tool definitions, exactly as the MCP servers (stdio and HTTP) answer tools/list: the same function
// builds both, so an exported file never drifts from what a connected client sees.
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { ToolName } from "../../generated/tools/registry.gen.ts";
import { mcpTool } from "../mcp/server.ts";

export type McpToolDefinition = Tool;

export function mcpToolDefinition(name: ToolName): McpToolDefinition {
  return structuredClone(mcpTool(name));
}
