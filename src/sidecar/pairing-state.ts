// What the pairing and status commands work on: the configuration, the profile's store and its relay
// identity. They need no broker, so they open no gateway (no simulator, broker session or recovery), only
// the state a pairing lives in. A check of the configuration's role runs before anything is made on disk.
import { type LoadConfigOptions, type LoadedConfig, loadConfigAsync } from "../config/load-core.ts";
import type { Config } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/index.ts";
import { openProfileStore } from "../workflows/profile-store.ts";
import { loadOrCreateIdentity, type RelayIdentity, readIdentity } from "./identity.ts";

export interface PairingState {
  readonly loaded: LoadedConfig;
  readonly store: Store;
  /** Undefined only when asked not to make one and none exists yet. */
  readonly identity: RelayIdentity | undefined;
  close(): void;
}

export interface PairingStateOptions extends LoadConfigOptions {
  /** Make the key pair when the profile has none yet (pair, pairing create); status only reads. */
  readonly createIdentity: boolean;
  /** Refuses a configuration of the wrong role before a key or a store is made. */
  readonly check?: (config: Config) => void;
  readonly clock: Clock;
}

export async function openPairingState(options: PairingStateOptions): Promise<PairingState> {
  const { createIdentity, check, clock, ...load } = options;
  const loaded = await loadConfigAsync(load);
  const { paths } = loaded;
  check?.(loaded.config);
  const store = openProfileStore(loaded, clock);
  try {
    const identity = createIdentity ? loadOrCreateIdentity(paths) : readIdentity(paths);
    return { loaded, store, identity, close: () => store.close() };
  } catch (error) {
    store.close();
    throw error;
  }
}
