// Anthropic client tools from the registry, for applications that pass tool definitions to the Messages API
// themselves (`tools` of `messages.create`). input_schema is the tool's input JSON Schema as the registry has
// it: Anthropic takes full JSON Schema there, so nothing is rewritten.
import { TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import type { JsonSchemaObject } from "./openai.ts";

/** A client tool of the Messages API. */
export interface AnthropicTool {
  readonly name: string;
  readonly description: string;
  readonly input_schema: JsonSchemaObject & { readonly type: "object" };
}

export function anthropicTool(name: ToolName): AnthropicTool {
  const tool = TOOLS[name];
  return {
    name: tool.name,
    description: tool.description,
    input_schema: structuredClone(tool.inputSchema) as AnthropicTool["input_schema"],
  };
}
