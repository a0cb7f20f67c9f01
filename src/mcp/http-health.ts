// Probes for load balancers and orchestrators, answered without authentication and therefore without
// anything an attacker could use (no versions, paths, accounts or error texts). /healthz says the process
// serves requests; /readyz says whether calls can succeed now: the audit store takes a write lock (every
// call appends to it) and the broker session is authenticated. A relay gateway (broker.backend relay) has no
// broker: it is ready when its store is and its relay hub accepts sidecars. Whether a given user's sidecar
// is connected is not readiness (sidecars connect through the same load balancer, and who is connected is
// nobody's business without a token).
import type { ServerResponse } from "node:http";
import type { Gateway } from "../gateway/index.ts";
import { sendJson } from "./http-responses.ts";

export interface Health {
  healthz(res: ServerResponse): void;
  readyz(res: ServerResponse): Promise<void>;
}

export function createHealth(gateway: Gateway): Health {
  let asking: Promise<boolean> | null = null;
  // The keep-alive refreshes the recorded session state about every minute; only before the first record
  // is the broker asked, once, however many probes arrive meanwhile.
  const brokerReady = async (): Promise<boolean> => {
    const known = gateway.broker.client.session.lastKnown();
    if (known !== null) return known.authenticated;
    asking ??= gateway.broker.client.session
      .status()
      .then((status) => status.authenticated)
      .catch(() => false)
      .finally(() => {
        asking = null;
      });
    return asking;
  };
  const storeWritable = (): boolean => {
    try {
      gateway.store.transaction(() => undefined);
      return true;
    } catch {
      return false;
    }
  };
  return {
    healthz: (res) => sendJson(res, 200, { status: "ok" }),
    async readyz(res) {
      const store = storeWritable();
      const relay = gateway.relay;
      const upstream = relay !== null ? relay.accepting : await brokerReady();
      const ready = store && upstream;
      const state = (ok: boolean) => (ok ? "ok" : "failing");
      sendJson(res, ready ? 200 : 503, {
        status: ready ? "ready" : "not_ready",
        checks:
          relay !== null
            ? { store: state(store), relay: state(upstream) }
            : { store: state(store), broker: state(upstream) },
      });
    },
  };
}
