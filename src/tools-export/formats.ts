// The export formats and their names in words: a module of its own, without the converters (the MCP one
// loads the MCP SDK), so the CLI can describe its flags without paying for them.
export const TOOL_EXPORT_FORMATS = ["openai", "openai-chat", "anthropic", "mcp"] as const;
export type ToolExportFormat = (typeof TOOL_EXPORT_FORMATS)[number];

/** What each format is, in words, for help text and summaries. */
export const FORMAT_DESCRIPTIONS: Readonly<Record<ToolExportFormat, string>> = {
  openai: "OpenAI Responses API function tools",
  "openai-chat": "OpenAI Chat Completions function tools",
  anthropic: "Anthropic Messages API client tools",
  mcp: "MCP tool definitions, as tools/list returns them",
};
