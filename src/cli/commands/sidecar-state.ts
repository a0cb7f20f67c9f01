// The state the pairing and status commands work on (src/sidecar/pairing-state.ts) with a CLI call context,
// closed when the command is done.
import type { Config } from "../../config/schema.ts";
import type { CallContext } from "../../core/call-context.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { uuidv7 } from "../../core/ids.ts";
import { localPrincipal, requestId } from "../../gateway/index.ts";
import { openPairingState, type PairingState } from "../../sidecar/index.ts";
import { cliCallFacts } from "../open-gateway.ts";

export interface SidecarState extends Omit<PairingState, "close"> {
  readonly context: CallContext;
  readonly clock: Clock;
}

export interface StateOptions {
  /** Make the key pair when the profile has none yet (pair, pairing create); status only reads. */
  readonly createIdentity: boolean;
  /** Refuses a configuration of the wrong role before anything (a key, a store) is made. */
  readonly check?: (config: Config) => void;
}

export async function withSidecarState<T>(
  argv: { readonly config?: unknown },
  command: string,
  options: StateOptions,
  fn: (state: SidecarState) => Promise<T> | T,
): Promise<T> {
  const clock = systemClock;
  const state = await openPairingState({
    ...(typeof argv.config === "string" ? { file: argv.config } : {}),
    createIdentity: options.createIdentity,
    ...(options.check !== undefined ? { check: options.check } : {}),
    clock,
  });
  try {
    const context: CallContext = {
      frontDoor: "cli",
      principal: localPrincipal(),
      scopes: new Set(),
      requestId: requestId(clock),
      sessionId: `ses_${uuidv7(clock)}`,
      ...cliCallFacts(command),
    };
    return await fn({ loaded: state.loaded, store: state.store, identity: state.identity, context, clock });
  } finally {
    state.close();
  }
}
