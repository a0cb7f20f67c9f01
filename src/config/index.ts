// The configuration module's public surface: load a config (or the safe defaults), validate a text, map it
// to the broker client's options, reach its secrets, and the starter file and JSON Schema for `config`
// commands and editors.
export type { CpapiOptionsFromConfig } from "./cpapi-options.ts";
export { cpapiClientOptions } from "./cpapi-options.ts";
export { MIN_SECRET_BYTES } from "./environment.ts";
export { configJsonSchema, configJsonSchemaText } from "./json-schema.ts";
export type { LoadConfigOptions, LoadedConfig } from "./load.ts";
export { defaultConfig, effectiveConfig, loadConfig } from "./load.ts";
export type { ParseOptions, ParseResult } from "./parse.ts";
export { parseConfigText, validateConfigText } from "./parse.ts";
export type { ConfigPaths } from "./paths.ts";
export { ensureProfileDir, resolveHome, resolvePaths } from "./paths.ts";
export { hashOperatorPin, MIN_PIN_LENGTH, parsePinHash, verifyOperatorPin } from "./pin.ts";
export type { ConfigProblem } from "./problems.ts";
export { configError } from "./problems.ts";
export { REDACTED, redactConfig } from "./redact.ts";
export type { Backend, Config, ConfigValues, LivePolicy } from "./schema.ts";
export {
  APPROVAL_TTL_BOUNDS,
  ASSET_CLASSES,
  BACKENDS,
  ConfigSchema,
  DEFAULT_PROFILES,
  LIVE_MIN_RETENTION_DAYS,
  READ_SCOPES,
} from "./schema.ts";
export type { ConfigSecrets, SecretName } from "./secrets.ts";
export { createSecrets, ensureAuditSecret } from "./secrets.ts";
export { SEED_KEYS } from "./seed-keys.ts";
export { installedSchemaPath, STARTER_AUDIT_SECRET_ENV, starterConfig } from "./starter.ts";
