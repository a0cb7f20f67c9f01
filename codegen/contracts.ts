// Loads contracts/ into one in-memory model. Pipeline: read YAML files (sorted, so the model never depends on
// directory order) -> check shapes just enough to type the model -> hand the model to validate.ts and the
// generators. Every problem is reported with the file and the key path it concerns.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";

export type Tier = "read" | "preview" | "paper" | "live" | "admin";
export type JsonSchema = Record<string, unknown>;

export interface Located {
  /** Path of the contract file relative to the project root, for messages and headers. */
  file: string;
}

export interface ScopeContract extends Located {
  name: string;
  tier: Tier;
  description: string;
}

export interface TierContract {
  name: Tier;
  description: string;
}

export interface ErrorContract extends Located {
  code: string;
  group: string;
  message: string;
  user_action: string;
  retryable: boolean;
  http: number;
  mcp: "tool_error" | "http" | "protocol";
}

export interface RefusalReasonContract extends Located {
  code: string;
  parent: string;
  message: string;
  user_action: string;
}

export interface RetiredCode {
  code: string;
  replaced_by?: string;
  reason: string;
}

export interface CliBinding {
  command: string;
  positional?: string[];
  flags?: Record<string, string>;
  aliases?: Record<string, string[]>;
  guard?: string;
}

export interface ToolContract extends Located {
  name: string;
  title: string;
  description: string;
  scope: string;
  tier: Tier;
  annotations: {
    readOnlyHint: boolean;
    destructiveHint: boolean;
    idempotentHint: boolean;
    openWorldHint: boolean;
  };
  operation: string;
  broker: string[];
  websocket?: Record<string, unknown>;
  input: JsonSchema;
  output: JsonSchema;
  errors: string[];
  examples: { input: Record<string, unknown> }[];
  cli: CliBinding;
}

export interface AuditField {
  name: string;
  type: string;
  required?: boolean;
  description: string;
}

export interface AuditEventType {
  name: string;
  category: string;
  description: string;
  decision?: string[];
  result_status?: string[];
  fields?: string[];
  metadata?: { name: string; type: string; description: string; untrusted?: boolean; max_chars?: number }[];
}

export interface AuditEventsContract extends Located {
  schema_version: number;
  error_code_required_for: string[];
  fields: AuditField[];
  event_types: AuditEventType[];
  enums: Record<string, string[]>;
  redaction: Record<string, unknown>;
}

export interface QuestionContract {
  id: string;
  gist: string;
  policy: "confirm" | "refuse" | "require_approval";
  reason: string;
  answer?: string;
}

export interface QuestionsContract extends Located {
  policies: Record<string, string>;
  questions: QuestionContract[];
}

export interface ForbiddenTool {
  name: string;
  use_instead: string;
}

export interface CpapiDocument extends Located {
  document: Record<string, unknown>;
}

export interface Contracts {
  tiers: TierContract[];
  scopes: ScopeContract[];
  exitCodes: Record<string, number>;
  errors: ErrorContract[];
  refusalReasons: RefusalReasonContract[];
  notToolErrors: string[];
  everyToolErrors: string[];
  retired: RetiredCode[];
  defs: Record<string, JsonSchema>;
  tools: ToolContract[];
  forbiddenTools: ForbiddenTool[];
  auditEvents: AuditEventsContract;
  questions: QuestionsContract;
  cpapi: CpapiDocument[];
}

/** A contract problem, always naming where it is. */
export class ContractError extends Error {
  readonly file: string;
  readonly keyPath: string;

  constructor(file: string, keyPath: string, problem: string) {
    super(`${file}: ${keyPath}: ${problem}`);
    this.file = file;
    this.keyPath = keyPath;
  }
}

/** Source texts by project-relative path; lets tests feed fragments without touching the disk. */
export type ContractSources = Map<string, string>;

export function readContractSources(root: string): ContractSources {
  const sources: ContractSources = new Map();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".yaml")) sources.set(relative(root, full), readFileSync(full, "utf8"));
    }
  };
  walk(join(root, "contracts"));
  return sources;
}

function parseYaml(file: string, text: string): Record<string, unknown> {
  try {
    const value = parse(text, { uniqueKeys: true, prettyErrors: true });
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new ContractError(file, "(root)", "must be a mapping");
    }
    return value as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ContractError) throw error;
    throw new ContractError(file, "(yaml)", (error as Error).message);
  }
}

function list<T>(file: string, doc: Record<string, unknown>, key: string): T[] {
  const value = doc[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ContractError(file, key, "must be a list");
  return value as T[];
}

function requireText(file: string, keyPath: string, value: unknown): void {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ContractError(file, keyPath, "must be a non-empty string");
  }
}

export function loadContracts(sources: ContractSources): Contracts {
  const get = (file: string): Record<string, unknown> => {
    const text = sources.get(file);
    if (text === undefined) throw new ContractError(file, "(file)", "is missing");
    return parseYaml(file, text);
  };

  const scopesFile = "contracts/scopes.yaml";
  const scopesDoc = get(scopesFile);
  const scopes = list<ScopeContract>(scopesFile, scopesDoc, "scopes").map((scope, i) => {
    requireText(scopesFile, `scopes[${i}].name`, scope.name);
    requireText(scopesFile, `scopes[${i}].description`, scope.description);
    return { ...scope, file: scopesFile };
  });
  const tiers = list<TierContract>(scopesFile, scopesDoc, "tiers");

  const errorsFile = "contracts/errors.yaml";
  const errorsDoc = get(errorsFile);
  const errors = list<ErrorContract>(errorsFile, errorsDoc, "errors").map((error) => ({
    ...error,
    file: errorsFile,
  }));
  const refusalReasons = list<RefusalReasonContract>(errorsFile, errorsDoc, "refusal_reasons").map(
    (reason) => ({ ...reason, file: errorsFile }),
  );
  const exitCodes = (errorsDoc.exit_codes ?? {}) as Record<string, number>;

  const defsFile = "contracts/tools/_defs.yaml";
  const defs = (get(defsFile).$defs ?? {}) as Record<string, JsonSchema>;

  const tools: ToolContract[] = [];
  for (const file of [...sources.keys()].sort()) {
    if (!file.startsWith("contracts/tools/") || file === defsFile) continue;
    const doc = parseYaml(file, sources.get(file) as string);
    list<ToolContract>(file, doc, "tools").forEach((tool, i) => {
      requireText(file, `tools[${i}].name`, tool.name);
      tools.push({
        ...tool,
        broker: tool.broker ?? [],
        errors: tool.errors ?? [],
        examples: tool.examples ?? [],
        file,
      });
    });
  }

  const forbiddenFile = "contracts/forbidden-tools.yaml";
  const forbiddenTools = list<ForbiddenTool>(forbiddenFile, get(forbiddenFile), "forbidden_tools");

  const auditFile = "contracts/audit-events.yaml";
  const auditDoc = get(auditFile);
  const questionsFile = "contracts/questions.yaml";
  const questionsDoc = get(questionsFile);

  const cpapi: CpapiDocument[] = [];
  for (const file of [...sources.keys()].sort()) {
    if (file.startsWith("contracts/cpapi/")) {
      cpapi.push({ file, document: parseYaml(file, sources.get(file) as string) });
    }
  }

  const everyToolErrors = list<string>(errorsFile, errorsDoc, "every_tool_errors");
  for (const tool of tools) tool.errors = [...new Set([...everyToolErrors, ...(tool.errors ?? [])])].sort();

  return {
    tiers,
    scopes,
    exitCodes,
    errors,
    refusalReasons,
    notToolErrors: list<string>(errorsFile, errorsDoc, "not_tool_errors"),
    everyToolErrors: list<string>(errorsFile, errorsDoc, "every_tool_errors"),
    retired: list<RetiredCode>(errorsFile, errorsDoc, "retired"),
    defs,
    tools: tools.sort((a, b) => a.name.localeCompare(b.name)),
    forbiddenTools,
    auditEvents: {
      file: auditFile,
      schema_version: Number(auditDoc.schema_version ?? 1),
      error_code_required_for: list<string>(auditFile, auditDoc, "error_code_required_for"),
      fields: list<AuditField>(auditFile, auditDoc, "fields"),
      event_types: list<AuditEventType>(auditFile, auditDoc, "event_types"),
      enums: (auditDoc.enums ?? {}) as Record<string, string[]>,
      redaction: (auditDoc.redaction ?? {}) as Record<string, unknown>,
    },
    questions: {
      file: questionsFile,
      policies: (questionsDoc.policies ?? {}) as Record<string, string>,
      questions: list<QuestionContract>(questionsFile, questionsDoc, "questions"),
    },
    cpapi,
  };
}
