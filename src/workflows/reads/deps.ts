// What the read workflows are given by the composition root, and the per-call view of it: a transport that
// counts this call's broker requests, the `source` label, and the broker account directory.
import type { Config } from "../../config/index.ts";
import type { OperationContext } from "../../core/call-context.ts";
import type { Clock } from "../../core/clock.ts";
import type { ClientTransport } from "../../cpapi/index.ts";
import type { Store } from "../../store/index.ts";
import { type Broker, countingTransport, type Source } from "../broker.ts";
import type { AccountDirectory } from "./account-directory.ts";

export interface ReadDeps {
  readonly broker: Broker;
  readonly config: Config;
  readonly clock: Clock;
  readonly store: Store;
  readonly accounts: AccountDirectory;
  /** When this gateway started (uptime). */
  readonly startedAt: number;
  readonly version: string;
}

export interface ReadCall {
  readonly transport: ClientTransport;
  readonly source: Source;
  readonly now: number;
  readonly context: OperationContext;
}

export function readCall(deps: ReadDeps, context: OperationContext): ReadCall {
  return {
    transport: countingTransport(deps.broker.client.transport, () => context.noteBrokerRequest()),
    // Read when the result is built, not when the call starts: a Client Portal Gateway is known to be the
    // simulator only once one of its replies said so (the first call of a CLI process would say otherwise).
    get source() {
      return deps.broker.source();
    },
    now: deps.clock.now(),
    context,
  };
}
