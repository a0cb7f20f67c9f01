// The one scope-and-audit path of the audit log's operator procedures (verify, export to a file, anchor,
// rotate-key, purge, backup). They are not tools - they run from the operator's terminal, with files - but
// they are gated and recorded like tools: the scope is checked first and a denial is recorded before it is
// returned; a failure that neither the procedure nor the store recorded is recorded with its error code.
import type { ScopeName } from "../../../generated/scopes.gen.ts";
import type { CallContext } from "../../core/call-context.ts";
import { GatewayError, toGatewayError } from "../../core/gateway-error.ts";
import type { AuditContext, Store } from "../../store/index.ts";
import { auditContextOf } from "./events.ts";

export type ProcedureEvent =
  | "audit_verified"
  | "audit_exported"
  | "audit_anchored"
  | "audit_key_rotated"
  | "audit_purged"
  | "audit_backed_up";

export interface Procedure<T> {
  /** The command as the operator types it, for messages (`audit purge`). */
  readonly command: string;
  readonly scope: ScopeName;
  /** Event type of the procedure's own record; a denial or failure is recorded under it too. */
  readonly event: ProcedureEvent;
  run(audit: AuditContext): T | Promise<T>;
}

const FAILED = { decision: "allow", result_status: "failed" } as const;
/** A purge that does not go ahead refuses: its catalogue entry has no "failed" (nothing was deleted). */
const REFUSED = { decision: "refuse", result_status: "refused" } as const;

const recorded = new WeakSet<object>();

/** Marks an error whose event is already in the log, so the guard does not record it twice. */
export function alreadyRecorded<E extends GatewayError>(error: E): E {
  recorded.add(error);
  return error;
}

export function missingScope(command: string, scope: ScopeName): GatewayError {
  return new GatewayError("AUTH_MISSING_SCOPE", {
    message: `ibkr-agent ${command} needs the scope ${scope}.`,
    userAction: `Ask the operator to add ${scope} to auth.enabled_scopes in the config file.`,
    details: { required_scope: scope },
  });
}

export function createGuard(store: Store) {
  return async function guarded<T>(context: CallContext, procedure: Procedure<T>): Promise<T> {
    const audit = auditContextOf(context);
    if (!context.scopes.has(procedure.scope)) {
      const error = missingScope(procedure.command, procedure.scope);
      const event = store.append({
        ...audit,
        event_type: procedure.event,
        decision: "deny",
        result_status: "denied_scope",
        error_code: error.code,
        scopes: [...context.scopes].sort(),
      });
      error.auditEventId = event.event_id;
      throw error;
    }
    try {
      return await procedure.run(audit);
    } catch (thrown) {
      const error = toGatewayError(thrown);
      if (recorded.has(error) || error.code === "AUDIT_WRITE_FAILED") throw error;
      const outcome = procedure.event === "audit_purged" ? REFUSED : FAILED;
      try {
        const event = store.append({
          ...audit,
          event_type: procedure.event,
          ...outcome,
          error_code: error.code,
        });
        error.auditEventId = event.event_id;
      } catch {
        // The procedure's own error is what the operator must see; a log that cannot take the record of
        // it will refuse the next call with AUDIT_WRITE_FAILED anyway.
      }
      throw error;
    }
  };
}
