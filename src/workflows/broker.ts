// What a workflow sees of the broker: the CPAPI client, where it runs (for the `source` every output
// carries), and a per-call transport that counts the requests a tool call made for its audit event.
import type { CpapiCallInput, CpapiReply } from "../../generated/cpapi/client.gen.ts";
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import type { ClientTransport, CpapiClient, TransportCallOptions } from "../cpapi/index.ts";
import type { CpapiWebSocket } from "../cpapi/websocket.ts";

export type BackendKind = "simulator" | "client_portal_gateway" | "relay";

export interface Source {
  readonly backend: BackendKind;
  readonly simulated: boolean;
}

export interface Broker {
  readonly client: CpapiClient;
  readonly kind: BackendKind;
  /** Where a person logs in (the gateway's own page); shown in session instructions. */
  readonly loginUrl: string;
  /** The source label of the answers, true to what the backend turned out to be. */
  source(): Source;
  /** The gateway's websocket (market depth), with the client's TLS settings; absent: no websocket. */
  readonly websocket?: CpapiWebSocket;
}

/** A transport that reports every request it sends (each upstream call, pre-flights included). */
export function countingTransport(transport: ClientTransport, note: () => void): ClientTransport {
  return {
    call<T>(operation: CpapiOperationSpec, input: CpapiCallInput, options?: TransportCallOptions) {
      note();
      return transport.call<T>(operation, input, options) as Promise<CpapiReply<T> & { simulated: boolean }>;
    },
  };
}
