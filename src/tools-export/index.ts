// Tool definitions for agent frameworks that take them directly instead of speaking MCP: the registry's tools
// in OpenAI's, Anthropic's or MCP's shape. Which tools to export is the caller's choice (the CLI passes the
// tools the configured scopes allow, gateway.tools(), as the MCP servers list them). An exported definition
// grants nothing: every call still goes through the dispatcher, its scope check and its gates.
import type { ToolName } from "../../generated/tools/registry.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { type AnthropicTool, anthropicTool } from "./anthropic.ts";
import type { ToolExportFormat } from "./formats.ts";
import { type McpToolDefinition, mcpToolDefinition } from "./mcp.ts";
import {
  type OpenAiChatTool,
  type OpenAiResponsesTool,
  openAiChatTool,
  openAiResponsesTool,
  openAiStrictness,
  type Strictness,
} from "./openai.ts";

export { FORMAT_DESCRIPTIONS, TOOL_EXPORT_FORMATS, type ToolExportFormat } from "./formats.ts";
export type { AnthropicTool, McpToolDefinition, OpenAiChatTool, OpenAiResponsesTool, Strictness };
export { openAiStrictness };

export interface ExportedTools {
  readonly openai: OpenAiResponsesTool;
  readonly "openai-chat": OpenAiChatTool;
  readonly anthropic: AnthropicTool;
  readonly mcp: McpToolDefinition;
}

// The name rules the providers publish: OpenAI and Anthropic ^[a-zA-Z0-9_-]{1,64}$, MCP (2025-11-25)
// letters, digits, _ - and . up to 128 characters.
const NAME_PATTERNS: Readonly<Record<ToolExportFormat, RegExp>> = {
  openai: /^[a-zA-Z0-9_-]{1,64}$/,
  "openai-chat": /^[a-zA-Z0-9_-]{1,64}$/,
  anthropic: /^[a-zA-Z0-9_-]{1,64}$/,
  mcp: /^[a-zA-Z0-9_.-]{1,128}$/,
};

const CONVERTERS: { readonly [F in ToolExportFormat]: (name: ToolName) => ExportedTools[F] } = {
  openai: openAiResponsesTool,
  "openai-chat": openAiChatTool,
  anthropic: anthropicTool,
  mcp: mcpToolDefinition,
};

/** The definitions of these tools in one provider's format, in the order given. */
export function exportTools<F extends ToolExportFormat>(
  format: F,
  names: readonly ToolName[],
): ExportedTools[F][] {
  const convert = CONVERTERS[format];
  return names.map((name) => {
    // Codegen enforces the MCP naming rule; this keeps a future rename from exporting a name a provider
    // would refuse at request time.
    if (!NAME_PATTERNS[format].test(name)) {
      throw new GatewayError("INTERNAL_ERROR", {
        message: `The tool name ${name} does not fit the ${format} name pattern.`,
      });
    }
    return convert(name);
  });
}
