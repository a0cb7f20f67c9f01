// The operator check: things only a person may do (approve when approvals require a human, release the kill
// switch, arm live trading, engage the switch and cancel every working order) need an interactive terminal
// and the operator PIN, whose scrypt hash is in config. The check lives here, in the core, so no front door
// can skip it; the CLI only asks for the PIN without echo. Wrong PINs are audited and throttled across
// processes (five in fifteen minutes lock the PIN for fifteen minutes). What this does and does not stop is
// written down in docs/threat-model.md: a shell-capable agent running as the same OS user is not kept out.
import type { Config } from "../config/index.ts";
import { verifyOperatorPin } from "../config/pin.ts";
import type { CallContext } from "../core/call-context.ts";
import type { Clock } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import type { Store } from "../store/index.ts";
import { auditContextOf } from "./audit/events.ts";

export interface OperatorProof {
  /** The PIN as typed at the terminal; never stored or logged. */
  readonly pin: string;
}

const WINDOW_MS = 15 * 60_000;
const MAX_FAILURES = 5;

export interface OperatorCheckDeps {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
}

/** Throws unless a person at an interactive CLI gave the right operator PIN. `action` names what for. */
export function requireOperator(
  deps: OperatorCheckDeps,
  context: CallContext,
  proof: OperatorProof | undefined,
  action: string,
): void {
  if (context.frontDoor !== "cli" || context.interactive !== true) {
    // Recorded like a wrong PIN: an attempt at an operator action from where no operator can be.
    deps.store.append({
      ...auditContextOf(context),
      event_type: "auth_denied",
      decision: "deny",
      result_status: "denied_auth",
      error_code: "APPROVAL_HUMAN_REQUIRED",
      metadata: { check: "operator_terminal" },
    });
    throw new GatewayError("APPROVAL_HUMAN_REQUIRED", {
      message: `Only the operator, at an interactive terminal, can ${action}.`,
      userAction: `Run the ibkr-agent command to ${action} yourself in a terminal; it asks for the operator PIN.`,
      details: { front_door: context.frontDoor },
    });
  }
  const hash = deps.config.operator.pin_hash;
  if (hash === undefined) {
    throw new GatewayError("OPERATOR_PIN_INVALID", {
      message: "No operator PIN is configured.",
      userAction: "Set one with `ibkr-agent config set-pin`, then try again.",
    });
  }
  const now = deps.clock.now();
  if (deps.store.operatorPinFailures.since(now - WINDOW_MS) >= MAX_FAILURES) {
    throw new GatewayError("OPERATOR_PIN_INVALID", {
      message: "Too many wrong operator PINs; the PIN is locked for 15 minutes.",
      userAction:
        "Wait 15 minutes, then try again with the right PIN; check the audit log for the failed attempts.",
      details: { locked: true },
    });
  }
  if (proof === undefined || !verifyOperatorPin(proof.pin, hash)) {
    deps.store.transaction(() => {
      deps.store.operatorPinFailures.record(now);
      deps.store.append({
        ...auditContextOf(context),
        event_type: "auth_denied",
        decision: "deny",
        result_status: "denied_auth",
        error_code: "OPERATOR_PIN_INVALID",
        metadata: { check: "operator_pin" },
      });
    });
    throw new GatewayError("OPERATOR_PIN_INVALID");
  }
  deps.store.operatorPinFailures.clear();
}
