// The kill switch gate: while the persisted switch is engaged, every order submit and modify is refused
// (paper and live); cancels and previews never ask this gate. It reads the store on every call, so an engage
// from another process takes effect on the very next call of a server that is already running.
import { toRfc3339 } from "../../core/clock.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import type { KillSwitchState } from "../../store/index.ts";

export function killSwitchRefusal(state: KillSwitchState): GatewayError | null {
  if (!state.engaged) return null;
  return new GatewayError("KILL_SWITCH_ENGAGED", {
    details: {
      engaged_at: state.changedAt === null ? null : toRfc3339(state.changedAt),
      reason: state.reason,
      untrusted_fields: ["reason"],
    },
  });
}

export function assertKillSwitchReleased(state: KillSwitchState): void {
  const refusal = killSwitchRefusal(state);
  if (refusal !== null) throw refusal;
}
