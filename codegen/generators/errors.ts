// Error catalogue: contracts/errors.yaml -> generated/errors.gen.ts. Emits the ErrorCode union and an
// exhaustive Record<ErrorCode, ErrorEntry> with message, user action, retryability, HTTP status, CLI exit code
// and MCP mapping, plus refusal reasons and retired codes. Front doors map failures only through this table.
import type { Contracts } from "../contracts.ts";
import { type GeneratedFile, literal } from "../emit.ts";

export const ERRORS_OUTPUT = "generated/errors.gen.ts";

export function generateErrors(contracts: Contracts): GeneratedFile[] {
  const errors = [...contracts.errors].sort((a, b) => a.code.localeCompare(b.code));
  const reasons = [...contracts.refusalReasons].sort((a, b) => a.code.localeCompare(b.code));
  const catalogue = Object.fromEntries(
    errors.map((error) => [
      error.code,
      {
        message: error.message,
        userAction: error.user_action,
        retryable: error.retryable,
        http: error.http,
        exit: contracts.exitCodes[error.group],
        group: error.group,
        mcp: error.mcp,
      },
    ]),
  );
  const content = `
/** CLI exit codes by group. 0 is success; every failure exits with its group's code. */
export const EXIT_CODES = ${literal(contracts.exitCodes)} as const;
export type ErrorGroup = keyof typeof EXIT_CODES;

export const ERROR_CODES = ${literal(errors.map((error) => error.code))} as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** How an MCP client sees the error: an isError tool result, an HTTP refusal, or a JSON-RPC error. */
export type McpMapping = "tool_error" | "http" | "protocol";

export interface ErrorEntry {
  readonly message: string;
  readonly userAction: string;
  readonly retryable: boolean;
  readonly http: number;
  readonly exit: number;
  readonly group: ErrorGroup;
  readonly mcp: McpMapping;
}

export const ERROR_CATALOGUE: Record<ErrorCode, ErrorEntry> = ${literal(catalogue)};

export const REFUSAL_REASON_CODES = ${literal(reasons.map((reason) => reason.code))} as const;
export type RefusalReasonCode = (typeof REFUSAL_REASON_CODES)[number];

export interface RefusalReasonEntry {
  readonly parent: ErrorCode;
  readonly message: string;
  readonly userAction: string;
}

export const REFUSAL_REASONS: Record<RefusalReasonCode, RefusalReasonEntry> = ${literal(
    Object.fromEntries(
      reasons.map((reason) => [
        reason.code,
        { parent: reason.parent, message: reason.message, userAction: reason.user_action },
      ]),
    ),
  )};

/** Codes that were used once and must never be reused. */
export const RETIRED_CODES = ${literal(
    [...contracts.retired]
      .sort((a, b) => a.code.localeCompare(b.code))
      .map((entry) => ({ code: entry.code, replacedBy: entry.replaced_by ?? null, reason: entry.reason })),
  )} as const;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, value);
}
`;
  return [
    {
      path: ERRORS_OUTPUT,
      content,
      generator: "codegen/generators/errors.ts",
      sources: ["contracts/errors.yaml"],
    },
  ];
}
