// Broker answers are checked against the contract before anyone maps them: a shape the contract does not
// describe is a BROKER_RESPONSE_INVALID, not a guess. Validators are compiled lazily, once per operation and
// status, because most processes (one CLI command) touch only a few operations.
import { Compile, type Validator } from "typebox/compile";
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";

const compiled = new Map<string, Validator>();

function validatorFor(operation: CpapiOperationSpec, status: number): Validator | null {
  const key = `${operation.operationId}:${status}`;
  let validator = compiled.get(key);
  if (validator !== undefined) return validator;
  const schema = operation.responses[String(status)];
  if (schema === undefined) return null;
  // biome-ignore lint/suspicious/noExplicitAny: TypeBox accepts any JSON Schema object here.
  validator = Compile(schema as any) as unknown as Validator;
  compiled.set(key, validator);
  return validator;
}

/** Throws BROKER_RESPONSE_INVALID (operation id and status only, never the body) unless the body fits. */
export function validateResponse(operation: CpapiOperationSpec, status: number, body: unknown): void {
  const validator = validatorFor(operation, status);
  if (validator === null) {
    throw new GatewayError("BROKER_RESPONSE_INVALID", {
      message: `The broker answered ${operation.operationId} with an unexpected HTTP status.`,
      details: { operation_id: operation.operationId, http_status: status, reason: "undeclared_status" },
    });
  }
  if (!validator.Check(body)) {
    const first = [...validator.Errors(body)][0] as { instancePath?: string } | undefined;
    throw new GatewayError("BROKER_RESPONSE_INVALID", {
      message: `The broker's answer to ${operation.operationId} does not match the contract.`,
      details: {
        operation_id: operation.operationId,
        http_status: status,
        reason: "schema_mismatch",
        // Where, not what: the path into the body is safe to show, the value may hold account data.
        instance_path: first?.instancePath ?? "",
      },
    });
  }
}
