import type { ToolName } from "../../../../generated/tools/registry.gen.ts";

/** Per tool, per result list: the columns to show, in order. */
export type RenderHints = Partial<Record<ToolName, Record<string, string[]>>>;
