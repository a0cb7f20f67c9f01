// Durable idempotency as one workflow step around the order writer (design §10):
//   known key? -> same request: replay a completed result, refuse while in progress, replay a refusal, or go
//   again when nothing of the first attempt reached the broker; another request: IDEMPOTENCY_CONFLICT
//   -> the gates -> pending_writer row committed (FULL sync) -> the writer -> settle:
//        accepted  -> one transaction: submitted + whatever the caller completes (approval consumed, ledger,
//                     backlog, audit events), so an approval is never consumed without its order recorded;
//        refused   -> failed_after_writer (rejected), the same key replays the refusal;
//        not sent  -> failed_after_writer (not_sent), the same key may try again;
//        uncertain -> the row stays pending; recovery looks the order up by cOID and settles it. Nothing is
//                     ever resubmitted automatically.
import { type CrashPoint, crashPoint } from "../../core/crash-points.ts";
import { GatewayError, isGatewayError, toGatewayError } from "../../core/gateway-error.ts";
import type { AccountMode } from "../../core/orders.ts";
import type { IdempotencyRecord, IdempotencyResolution, Store } from "../../store/index.ts";
import { markActive, ownerGone, processOwner } from "./owner.ts";

export interface WriteSpec {
  readonly store: Store;
  readonly now: () => number;
  /** Workflow operation (paper.submit, live.modify, ...), stored with the record. */
  readonly operation: string;
  readonly mode: AccountMode;
  readonly accountIdHash: string;
  readonly keyHash: string;
  readonly requestHash: string;
  readonly approvalId?: string;
  readonly clientOrderId?: string;
  /** What recovery needs to settle the write after a crash (cOIDs, broker order id); no raw account id. */
  readonly context: Record<string, unknown>;
  readonly originRequestId: string;
}

export interface WriteHooks<W, T> {
  /** Settles a pending record nobody is writing any more (crash, earlier uncertain outcome); returns it after. */
  recover(record: IdempotencyRecord): Promise<IdempotencyRecord>;
  /** The stored result of a completed record, as this call returns it (and its replay audit event). */
  replay(record: IdempotencyRecord): T;
  /** Every gate of the call; throws the refusal. Runs after the record check, before the pending row. */
  gates(): Promise<void>;
  /** The broker call (or a rehearsal writer); its answer is handed to complete. */
  write(): Promise<W>;
  /** Runs inside the completion transaction: the result and every record and event that goes with it. */
  complete(outcome: W): { result: T; stored: unknown; brokerOrderId?: string };
  /** Runs inside the failure transaction: the audit events of a write that did not happen or was refused. */
  failed(error: GatewayError, resolution: IdempotencyResolution): void;
  /** The outcome is unknown; the record stays pending for recovery (audit event). */
  uncertain(error: GatewayError): void;
}

/** Codes after which the broker may have acted: the pending row must stay for recovery. */
const UNCERTAIN: ReadonlySet<string> = new Set(["ORDER_OUTCOME_UNCERTAIN", "BROKER_RESPONSE_INVALID"]);
/** Definitive broker refusals: nothing was placed, and the same request would be refused again. */
const REFUSED: ReadonlySet<string> = new Set([
  "BROKER_ORDER_REJECTED",
  "BROKER_QUESTION_UNAPPROVED",
  "ORDER_NOT_FOUND",
  "ORDER_VALIDATION_FAILED",
]);

function classify(error: GatewayError): "uncertain" | IdempotencyResolution {
  if (UNCERTAIN.has(error.code)) return "uncertain";
  // A refused p12 prompt leaves the order held at the broker awaiting an answer: it exists.
  if (error.code === "BROKER_QUESTION_UNAPPROVED" && error.details?.discarded === false) return "uncertain";
  return REFUSED.has(error.code) ? "rejected" : "not_sent";
}

/** What a failure is stored as: code and message, plus the broker order id when the broker named one. */
export function storedFailure(error: GatewayError): Record<string, unknown> {
  const brokerOrderId = error.details?.broker_order_id;
  return {
    code: error.code,
    message: error.message,
    ...(typeof brokerOrderId === "string" ? { broker_order_id: brokerOrderId } : {}),
  };
}

/** The refusal a later call with the same key gets back. */
function replayedFailure(record: IdempotencyRecord): GatewayError {
  const failure = (record.failure ?? {}) as { code?: string; message?: string };
  const code = typeof failure.code === "string" ? failure.code : "BROKER_ORDER_REJECTED";
  return new GatewayError(code as GatewayError["code"], {
    message: `This idempotency key's request was already refused: ${failure.message ?? "see the audit log"}`,
    userAction: "Nothing was sent again. Preview the order again and submit it with a new idempotency key.",
    details: { idempotent_replay: true },
  });
}

function conflict(): GatewayError {
  return new GatewayError("IDEMPOTENCY_CONFLICT", { details: { field: "idempotency_key" } });
}

function inProgress(): GatewayError {
  return new GatewayError("IDEMPOTENCY_IN_PROGRESS", { details: { field: "idempotency_key" } });
}

function approvalInUse(): GatewayError {
  return new GatewayError("APPROVAL_CONSUMED", {
    message: "The approval already backs another submit that may have reached the broker.",
    userAction:
      "Check ibkr_orders_list; each approval allows one order. Preview and approve again for another.",
    details: { field: "approval_id" },
  });
}

const MAX_ROUNDS = 3;

export async function runIdempotent<W, T>(spec: WriteSpec, hooks: WriteHooks<W, T>): Promise<T> {
  const { store } = spec;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    let record = store.idempotency.get(spec.keyHash);
    if (record !== null) {
      if (record.requestHash !== spec.requestHash) throw conflict();
      if (record.status === "pending_writer" && ownerGone(record, spec.now())) {
        record = await hooks.recover(record);
      }
      if (record.status === "submitted") return hooks.replay(record);
      if (record.status === "pending_writer") throw inProgress();
      if (!store.idempotency.isRetryable(record)) throw replayedFailure(record);
    }
    await hooks.gates();
    crash("before_pending");
    const begun = store.idempotency.begin({
      keyHash: spec.keyHash,
      requestHash: spec.requestHash,
      operation: spec.operation,
      accountIdHash: spec.accountIdHash,
      mode: spec.mode,
      ...(spec.clientOrderId !== undefined ? { clientOrderId: spec.clientOrderId } : {}),
      ...(spec.approvalId !== undefined ? { approvalId: spec.approvalId } : {}),
      originRequestId: spec.originRequestId,
      owner: processOwner(),
      context: spec.context,
      at: spec.now(),
    });
    if (begun.kind === "approval_in_use") throw approvalInUse();
    // Another call wrote the row between our look and our insert: look again.
    if (begun.kind === "exists") continue;
    return await written(spec, hooks);
  }
  throw inProgress();
}

function crash(point: CrashPoint): void {
  crashPoint(point);
}

async function written<W, T>(spec: WriteSpec, hooks: WriteHooks<W, T>): Promise<T> {
  const { store } = spec;
  const done = markActive(spec.keyHash);
  try {
    crash("after_pending");
    let outcome: W;
    try {
      outcome = await hooks.write();
    } catch (thrown) {
      const error = toGatewayError(thrown);
      const kind = classify(error);
      if (kind === "uncertain") {
        const uncertain =
          error.code === "ORDER_OUTCOME_UNCERTAIN"
            ? error
            : new GatewayError("ORDER_OUTCOME_UNCERTAIN", {
                cause: error,
                details: { cause_code: error.code },
              });
        hooks.uncertain(uncertain);
        throw uncertain;
      }
      store.transaction(() => {
        store.idempotency.markFailedAfterWriter(spec.keyHash, {
          failure: storedFailure(error),
          at: spec.now(),
          resolution: kind,
        });
        hooks.failed(error, kind);
      });
      throw error;
    }
    crash("after_broker_accepted");
    return store.transaction(() => {
      const completed = hooks.complete(outcome);
      const marked = store.idempotency.markSubmitted(spec.keyHash, {
        result: completed.stored,
        ...(completed.brokerOrderId !== undefined ? { brokerOrderId: completed.brokerOrderId } : {}),
        at: spec.now(),
      });
      if (!marked) {
        // Recovery in another process settled the row while the writer ran; its answer stands.
        throw new GatewayError("ORDER_OUTCOME_UNCERTAIN", {
          message: "The order was settled by recovery while this call was still writing it.",
          details: { reason: "settled_concurrently" },
        });
      }
      crash("before_completion");
      return completed.result;
    });
  } catch (error) {
    if (isGatewayError(error)) throw error;
    throw toGatewayError(error);
  } finally {
    done();
  }
}
