// Broker answers are checked against the contract before anyone maps them: a shape the contract does not
// describe is a BROKER_RESPONSE_INVALID, not a guess. The checks are generated ahead of time from the
// contract's response schemas (generated/cpapi/checks/), one module per operation and status, loaded on first
// use; TypeBox's compiler is loaded only to locate the mismatch in an answer that failed.
import { responseCheck } from "../../generated/cpapi/checks.gen.ts";
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";

/** Where the first mismatch is (the path only; the value may hold account data). */
async function firstMismatch(operation: CpapiOperationSpec, status: number, body: unknown): Promise<string> {
  const { Compile } = await import("typebox/compile");
  const schema = operation.responses[String(status)];
  // biome-ignore lint/suspicious/noExplicitAny: TypeBox accepts any JSON Schema object here.
  const first = [...Compile(schema as any).Errors(body)][0] as { instancePath?: string } | undefined;
  return first?.instancePath ?? "";
}

/** Throws BROKER_RESPONSE_INVALID (operation id and status only, never the body) unless the body fits. */
export async function validateResponse(
  operation: CpapiOperationSpec,
  status: number,
  body: unknown,
): Promise<void> {
  const check = await responseCheck(operation.operationId, status);
  if (check === null) {
    throw new GatewayError("BROKER_RESPONSE_INVALID", {
      message: `The broker answered ${operation.operationId} with an unexpected HTTP status.`,
      details: { operation_id: operation.operationId, http_status: status, reason: "undeclared_status" },
    });
  }
  if (!check(body)) {
    throw new GatewayError("BROKER_RESPONSE_INVALID", {
      message: `The broker's answer to ${operation.operationId} does not match the contract.`,
      details: {
        operation_id: operation.operationId,
        http_status: status,
        reason: "schema_mismatch",
        instance_path: await firstMismatch(operation, status, body),
      },
    });
  }
}
