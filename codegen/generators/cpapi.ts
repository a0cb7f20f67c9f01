// Broker boundary: contracts/cpapi/*.yaml -> generated/cpapi/{types,operations,client}.gen.ts. Pipeline:
// merge the per-area OpenAPI 3.1 documents into one (paths and schema names are unique, validate.ts checks) ->
// openapi-typescript turns it into the `paths`/`operations`/`components` types -> an operation table carries
// method, path template, parameter names, pacing, pre-conditions, stability and the response schemas (refs
// inlined) for runtime validation -> one typed function per operationId calls a CpapiTransport, which
// src/cpapi implements over undici.request.
import openapiTS, { astToString } from "openapi-typescript";
import type { Contracts } from "../contracts.ts";
import { type GeneratedFile, literal } from "../emit.ts";
import { sortKeys } from "../schema.ts";

export const CPAPI_TYPES_OUTPUT = "generated/cpapi/types.gen.ts";
export const CPAPI_OPERATIONS_OUTPUT = "generated/cpapi/operations.gen.ts";
export const CPAPI_CLIENT_OUTPUT = "generated/cpapi/client.gen.ts";

const METHODS = ["get", "post", "put", "delete", "patch"] as const;
const REF_PREFIX = "#/components/schemas/";

type Json = Record<string, unknown>;

export interface CpapiOperation {
  operationId: string;
  method: string;
  path: string;
  summary: string;
  pathParams: string[];
  queryParams: { name: string; required: boolean }[];
  hasBody: boolean;
  bodyRequired: boolean;
  pacing: Json | null;
  requires: string[];
  stability: string;
  responses: Record<string, unknown>;
  file: string;
}

export function mergeCpapi(contracts: Contracts): Json {
  const paths: Json = {};
  const schemas: Json = {};
  for (const { document } of contracts.cpapi) {
    Object.assign(paths, document.paths ?? {});
    Object.assign(schemas, (document.components as Json | undefined)?.schemas ?? {});
  }
  return sortKeys({
    openapi: "3.1.0",
    info: { title: "IBKR Client Portal Web API (CPAPI v1), as the gateway uses it", version: "1" },
    paths,
    components: { schemas },
  });
}

function inlineRefs(value: unknown, schemas: Json, trail: string[] = []): unknown {
  if (Array.isArray(value)) return value.map((item) => inlineRefs(item, schemas, trail));
  if (value === null || typeof value !== "object") return value;
  const object = value as Json;
  if (typeof object.$ref === "string" && object.$ref.startsWith(REF_PREFIX)) {
    const name = object.$ref.slice(REF_PREFIX.length);
    if (trail.includes(name)) return {};
    const { $ref: _ref, ...rest } = object;
    return { ...(inlineRefs(schemas[name], schemas, [...trail, name]) as Json), ...rest };
  }
  const out: Json = {};
  for (const [key, child] of Object.entries(object)) out[key] = inlineRefs(child, schemas, trail);
  return out;
}

export function listOperations(contracts: Contracts): CpapiOperation[] {
  const merged = mergeCpapi(contracts);
  const schemas = ((merged.components as Json).schemas ?? {}) as Json;
  const operations: CpapiOperation[] = [];
  for (const { file, document } of contracts.cpapi) {
    for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Json>)) {
      for (const method of METHODS) {
        const operation = item[method] as Json | undefined;
        if (!operation) continue;
        const parameters = [
          ...((item.parameters ?? []) as Json[]),
          ...((operation.parameters ?? []) as Json[]),
        ].map((p) => inlineRefs(p, schemas) as Json);
        const body = operation.requestBody as Json | undefined;
        const responses: Record<string, unknown> = {};
        for (const [status, response] of Object.entries(
          (operation.responses ?? {}) as Record<string, Json>,
        )) {
          const content = (response.content as Json | undefined)?.["application/json"] as Json | undefined;
          if (content?.schema) responses[status] = inlineRefs(content.schema, schemas);
        }
        operations.push({
          operationId: operation.operationId as string,
          method: method.toUpperCase(),
          path,
          summary: (operation.summary as string | undefined) ?? "",
          pathParams: parameters.filter((p) => p.in === "path").map((p) => p.name as string),
          queryParams: parameters
            .filter((p) => p.in === "query")
            .map((p) => ({ name: p.name as string, required: p.required === true })),
          hasBody: body !== undefined,
          bodyRequired: body?.required === true,
          pacing: (operation["x-ibkr-pacing"] as Json | undefined) ?? null,
          requires: (operation["x-ibkr-requires"] as string[] | undefined) ?? [],
          stability: operation["x-ibkr-stability"] as string,
          responses: sortKeys(responses),
          file,
        });
      }
    }
  }
  return operations.sort((a, b) => a.operationId.localeCompare(b.operationId));
}

export async function generateCpapi(contracts: Contracts): Promise<GeneratedFile[]> {
  const sources = contracts.cpapi.map((doc) => doc.file);
  const ast = await openapiTS(mergeCpapi(contracts) as never, { alphabetize: true, exportType: false });
  const operations = listOperations(contracts);
  const table = Object.fromEntries(
    operations.map((op) => [
      op.operationId,
      {
        operationId: op.operationId,
        method: op.method,
        path: op.path,
        pathParams: op.pathParams,
        queryParams: op.queryParams.map((q) => q.name),
        hasBody: op.hasBody,
        pacing: op.pacing,
        requires: op.requires,
        stability: op.stability,
        responses: op.responses,
      },
    ]),
  );
  const operationsContent = `
export type CpapiRequirement = "brokerage-session" | "iserver-accounts-preflight" | "portfolio-accounts-preflight" | "snapshot-preflight";

/** Per-endpoint pacing from the contract; the global 10 req/s limit applies on top of it. */
export type CpapiPacing = { readonly rate: number; readonly per_seconds: number } | { readonly concurrent: number };

export interface CpapiOperationSpec {
  readonly operationId: string;
  readonly method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  /** Path template relative to the gateway's /v1/api base, e.g. /portfolio/{accountId}/summary. */
  readonly path: string;
  readonly pathParams: readonly string[];
  readonly queryParams: readonly string[];
  readonly hasBody: boolean;
  readonly pacing: CpapiPacing | null;
  readonly requires: readonly CpapiRequirement[];
  readonly stability: "documented" | "undocumented";
  /** Response JSON Schemas by status code, with references inlined. */
  readonly responses: Readonly<Record<string, unknown>>;
}

export const CPAPI_OPERATIONS = ${literal(table)} as const satisfies Record<string, CpapiOperationSpec>;

export type CpapiOperationId = keyof typeof CPAPI_OPERATIONS;
`;
  const functions = operations
    .map((op) => {
      const fields: string[] = [];
      if (op.pathParams.length > 0)
        fields.push(`path: operations["${op.operationId}"]["parameters"]["path"]`);
      if (op.queryParams.length > 0) {
        const optional = op.queryParams.every((q) => !q.required) ? "?" : "";
        fields.push(`query${optional}: NonNullable<operations["${op.operationId}"]["parameters"]["query"]>`);
      }
      if (op.hasBody) {
        fields.push(
          `body${op.bodyRequired ? "" : "?"}: NonNullable<operations["${op.operationId}"]["requestBody"]>["content"]["application/json"]`,
        );
      }
      const inputType = fields.length > 0 ? `{ ${fields.join("; ")} }` : "Record<string, never>";
      const optionalInput = fields.length === 0 || fields.every((f) => f.split(":")[0]?.endsWith("?"));
      const ok = op.responses["200"] !== undefined ? `CpapiOk<"${op.operationId}">` : "unknown";
      return `
/** ${op.method} ${op.path}${op.summary ? `: ${op.summary.replaceAll("*/", "* /")}` : ""} */
export function ${op.operationId}(transport: CpapiTransport, input: ${inputType}${optionalInput ? " = {}" : ""}, options?: CpapiCallOptions): Promise<CpapiReply<${ok}>> {
  return transport.call(CPAPI_OPERATIONS.${op.operationId}, input, options);
}`;
    })
    .join("\n");
  const clientContent = `
import { CPAPI_OPERATIONS, type CpapiOperationSpec } from "./operations.gen.ts";
import type { operations } from "./types.gen.ts";

/** Input of one call: path parameters, query values and JSON body, as the contract declares them. */
export interface CpapiCallInput {
  readonly path?: Readonly<Record<string, string | number>>;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
}

export interface CpapiCallOptions {
  /** Aborts the call (the transport maps this to a timeout error). */
  readonly signal?: AbortSignal;
  /** Skip coalescing with identical in-flight reads. */
  readonly fresh?: boolean;
}

/** A decoded broker answer. Non-2xx answers are turned into GatewayErrors by the transport, except where a caller asks for them. */
export interface CpapiReply<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Readonly<Record<string, string>>;
}

/** Implemented by src/cpapi over undici: pacing, pre-flights, session handling, validation, error mapping. */
export interface CpapiTransport {
  call<T>(operation: CpapiOperationSpec, input: CpapiCallInput, options?: CpapiCallOptions): Promise<CpapiReply<T>>;
}

type SuccessContent<R> = R extends { 200: { content: { "application/json": infer B } } } ? B : unknown;
export type CpapiOk<K extends keyof operations> = SuccessContent<operations[K]["responses"]>;
${functions}
`;
  return [
    {
      path: CPAPI_TYPES_OUTPUT,
      content: astToString(ast),
      generator: "codegen/generators/cpapi.ts (openapi-typescript)",
      sources,
    },
    {
      path: CPAPI_OPERATIONS_OUTPUT,
      content: operationsContent,
      generator: "codegen/generators/cpapi.ts",
      sources,
    },
    { path: CPAPI_CLIENT_OUTPUT, content: clientContent, generator: "codegen/generators/cpapi.ts", sources },
  ];
}
