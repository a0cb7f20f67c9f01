// Public package root (the SDK). Everything exported here is covered by the API snapshot; front doors and
// internals stay private.

export type { ToolMethods } from "../../generated/bindings/sdk.gen.ts";
export type { ErrorCode, ErrorEntry } from "../../generated/errors.gen.ts";
export { ERROR_CATALOGUE, EXIT_CODES } from "../../generated/errors.gen.ts";
export type { ScopeName, Tier } from "../../generated/scopes.gen.ts";
export { SCOPE_NAMES, SCOPE_TIERS } from "../../generated/scopes.gen.ts";
export type { ToolDefinition, ToolInput, ToolName, ToolOutput } from "../../generated/tools/registry.gen.ts";
export { TOOL_NAMES, TOOLS } from "../../generated/tools/registry.gen.ts";
export { randomLocalToken } from "../auth/local.ts";
export { GatewayError, isGatewayError, type WireError } from "../core/gateway-error.ts";
export type {
  ApprovalListing,
  CancelAnswer,
  FoundOrder,
  ModifyRequest,
  OrderWriter,
  OrderWriters,
  PlacedOrders,
  PlaceRequest,
  ReconcileReport,
  RecoveryReport,
  VerifyReport,
  WriterKind,
} from "../gateway/index.ts";
export type { McpHttpHandler } from "../mcp/http-handler.ts";
export {
  type AnthropicTool,
  type ExportedTools,
  exportTools,
  type McpToolDefinition,
  type OpenAiChatTool,
  type OpenAiResponsesTool,
  TOOL_EXPORT_FORMATS,
  type ToolExportFormat,
} from "../tools-export/index.ts";
export type { CreateGatewayOptions, IbkrGateway } from "./create-gateway.ts";
export { createGateway } from "./create-gateway.ts";
export { createMcpHttpHandler, type McpHttpHandlerOptions } from "./mcp-http.ts";
