// The store of a loaded configuration's profile, opened the one way every command opens it: the profile
// directory made, the generated audit secret made on first use, retention from the config.
import type { LoadedConfig } from "../config/load-core.ts";
import { ensureProfileDir } from "../config/paths.ts";
import { ensureAuditSecret } from "../config/secrets.ts";
import type { Clock } from "../core/clock.ts";
import { openStore, type Store } from "../store/index.ts";

export function openProfileStore(loaded: LoadedConfig, clock: Clock): Store {
  const { config, paths } = loaded;
  ensureProfileDir(paths, config.broker.backend);
  if (loaded.secrets.mode === "generated-file") ensureAuditSecret(paths);
  return openStore({
    path: paths.storePath,
    secrets: loaded.secrets.storeSecrets(),
    clock,
    retentionDays: config.audit.retention_days,
  });
}
