// The one mapping from configuration to the broker client's options, so the composition root does not
// translate key by key. The shape repeats the matching fields of CpapiClientOptions (src/cpapi/client.ts)
// because config/ may not import the broker layer; a type test keeps the two assignable.
import type { ConfigPaths } from "./paths.ts";
import type { Config } from "./schema.ts";

export interface CpapiOptionsFromConfig {
  baseUrl: string;
  caFile?: string;
  allowInsecureTlsForLocalhost: boolean;
  timeouts: { connectMs: number; headersMs: number; bodyMs: number };
  maxResponseBytes: number;
  coordinationPath: string;
  keepAliveIntervalMs: number;
  allowSessionInit: boolean;
}

export function cpapiClientOptions(config: Config, paths: ConfigPaths): CpapiOptionsFromConfig {
  const b = config.broker;
  const options: CpapiOptionsFromConfig = {
    baseUrl: b.base_url,
    allowInsecureTlsForLocalhost: b.allow_insecure_tls_for_localhost,
    timeouts: {
      connectMs: b.timeouts.connect_ms,
      headersMs: b.timeouts.headers_ms,
      bodyMs: b.timeouts.body_ms,
    },
    maxResponseBytes: b.max_response_bytes,
    coordinationPath: paths.coordinationPath,
    keepAliveIntervalMs: b.keep_alive_interval_seconds * 1000,
    allowSessionInit: b.allow_session_init,
  };
  if (b.ca_file !== undefined) options.caFile = b.ca_file;
  return options;
}
