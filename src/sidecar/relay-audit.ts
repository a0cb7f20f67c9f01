// The relay's session audit events (relay_session_opened, _closed, _refused) on either side. A relayed call
// has no event of its own here: its relay facts go into the call's one tool_call event, which the dispatcher
// writes (and fails the call when it cannot). Writing a session event must never break the relay: a failed
// append is logged.

import type { AuditEventType } from "../../generated/audit-events.gen.ts";
import type { ErrorCode } from "../../generated/errors.gen.ts";
import type { Clock } from "../core/clock.ts";
import { uuidv7 } from "../core/ids.ts";
import type { Logger } from "../core/logger.ts";
import type { AuditDecision, AuditFrontDoor, AuditResultStatus, Store } from "../store/index.ts";

export interface RelayAuditContext {
  readonly requestId?: string;
  readonly sessionId?: string;
  readonly principal: string;
  readonly frontDoor?: AuditFrontDoor;
  readonly tool?: string;
  readonly scopes?: readonly string[];
}

export interface RelayAuditEvent {
  readonly type: AuditEventType;
  readonly decision: AuditDecision;
  readonly status: AuditResultStatus;
  readonly errorCode?: ErrorCode;
  readonly metadata: Record<string, unknown>;
}

export type RelayAuditor = (context: RelayAuditContext, event: RelayAuditEvent) => void;

export function createRelayAuditor(store: Store, clock: Clock, logger: Logger): RelayAuditor {
  return (context, event) => {
    const metadata = Object.fromEntries(Object.entries(event.metadata).filter(([, v]) => v !== undefined));
    try {
      store.append({
        event_type: event.type,
        request_id: context.requestId ?? `req_${uuidv7(clock)}`,
        session_id: context.sessionId ?? `ses_${uuidv7(clock)}`,
        principal: context.principal,
        front_door: context.frontDoor ?? "relay",
        decision: event.decision,
        result_status: event.status,
        ...(context.tool !== undefined ? { tool: context.tool } : {}),
        ...(context.scopes !== undefined ? { scopes: [...context.scopes].sort() } : {}),
        ...(event.errorCode !== undefined ? { error_code: event.errorCode } : {}),
        metadata,
      });
    } catch (error) {
      logger.warn("a relay audit event could not be written", {
        event_type: event.type,
        code: (error as { code?: string }).code ?? "INTERNAL_ERROR",
      });
    }
  };
}
