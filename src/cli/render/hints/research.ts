// Preferred table columns of the research tools' result lists (their natural reading order).
import type { RenderHints } from "./types.ts";

export const RESEARCH_HINTS: RenderHints = {};
