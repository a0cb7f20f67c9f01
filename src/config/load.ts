// The synchronous configuration loader for commands and tests: the file named by the caller (`--config`) or
// by $IBKR_AGENT_CONFIG, else the safe defaults (simulator, read scopes, a generated audit secret). A file
// with any problem is refused as a whole with every problem listed; nothing is guessed. Gateway start-up
// uses loadConfigAsync (load-core.ts), which loads the parser only when there is a file.
import { type LoadConfigOptions, type LoadedConfig, loadWith } from "./load-core.ts";
import { parseConfigText } from "./parse.ts";

export type { LoadConfigOptions, LoadedConfig } from "./load-core.ts";
export { configFileOf, defaultConfig, effectiveConfig, loadConfigAsync } from "./load-core.ts";

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  return loadWith(options, () => parseConfigText);
}
