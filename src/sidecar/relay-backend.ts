// Builds the remote gateway's relay hub (broker.backend: relay) from its configuration: limits, the remote's
// signing identity and the pairing records. The parts that belong to pairing (records, identity, payload
// screen) can be handed in; otherwise they come from the pairing modules of this profile.
import type { KeyObject } from "node:crypto";
import type { LoadedConfig } from "../config/load-core.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/index.ts";
import { loadOrCreateIdentity, sidecarIdOf } from "./identity.ts";
import type { Limits } from "./protocol/index.ts";
import { createRelayAuditor } from "./relay-audit.ts";
import { createRelayHub, type RelayHub, type RelayPairings } from "./relay-hub.ts";
import { remotePairings } from "./relay-pairings.ts";

export interface RelayParts {
  readonly pairings: RelayPairings;
  readonly privateKey: KeyObject;
  readonly instanceId: string;
}

export interface RelayBackendOptions {
  readonly loaded: LoadedConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly overrides?: RelayOverrides;
}

/** What an embedding application or a test may set instead of the profile and configuration. */
export interface RelayOverrides {
  /** The pairing parts; absent: this profile's identity and pairing records. */
  readonly parts?: (store: Store) => RelayParts;
  readonly limits?: Partial<Limits>;
  readonly sessionTtlSeconds?: number;
}

/** The relay limits of a configuration (the sidecar.* keys; their defaults live in the config schema). */
export function relayLimits(loaded: LoadedConfig, overrides: Partial<Limits> = {}): Limits {
  const s = loaded.config.sidecar;
  return {
    max_message_bytes: s.max_message_bytes,
    max_in_flight: s.max_in_flight,
    heartbeat_interval_seconds: s.heartbeat_interval_seconds,
    heartbeat_timeout_seconds: s.heartbeat_timeout_seconds,
    request_timeout_seconds: s.request_timeout_seconds,
    max_clock_skew_seconds: s.max_clock_skew_seconds,
    ...overrides,
  };
}

export function sessionTtlMs(loaded: LoadedConfig): number {
  return loaded.config.sidecar.session_ttl_seconds * 1000;
}

/** This profile's own identity (made on first use) and pairing records. */
function profileParts(options: RelayBackendOptions): RelayParts {
  const identity = loadOrCreateIdentity(options.loaded.paths);
  return {
    pairings: remotePairings(options.store, options.clock),
    privateKey: identity.privateKey,
    instanceId: identity.remoteInstanceId,
  };
}

export function createRelayBackend(options: RelayBackendOptions): RelayHub {
  const overrides = options.overrides ?? {};
  const parts = overrides.parts?.(options.store) ?? profileParts(options);
  return createRelayHub({
    ...parts,
    audit: createRelayAuditor(options.store, options.clock, options.logger),
    clock: options.clock,
    logger: options.logger,
    limits: relayLimits(options.loaded, overrides.limits),
    sidecarIdOf,
    publish: (status, state, detail) =>
      options.store.relayStatus.put({
        pairingId: status.pairing_id,
        side: "remote",
        relaySessionId: status.relay_session_id,
        state,
        connectedAt: Date.parse(status.connected_at),
        lastHeartbeatAt: Date.parse(status.last_heartbeat_at),
        inFlight: status.in_flight,
        processId: process.pid,
        detail: detail ?? null,
        updatedAt: options.clock.now(),
      }),
    sessionTtlMs:
      overrides.sessionTtlSeconds !== undefined
        ? overrides.sessionTtlSeconds * 1000
        : sessionTtlMs(options.loaded),
  });
}
