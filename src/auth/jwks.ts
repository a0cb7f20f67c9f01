// The authorization server's signing keys. jose's remote key set does the caching (cacheMaxAge), refreshes
// when a token names an unknown kid (rate-limited by cooldownDuration, so key rotation needs no restart),
// and shares one fetch among concurrent callers instead of holding a lock across it: a request whose key is
// cached never waits on the network. The fetch it calls is ours: https only, no redirects followed, the
// configured CA, a size cap and a timeout. After a failed fetch, callers are answered at once for a short
// back-off instead of each starting another fetch against an authorization server that is down.
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";
import { Agent, request } from "undici";

export interface JwksOptions {
  readonly url: string;
  /** PEM CA certificates to trust instead of the system roots (remote_mcp.jwks_ca_file). */
  readonly ca?: string;
  readonly timeoutMs: number;
  readonly cacheMs: number;
  readonly cooldownMs: number;
  readonly maxBytes: number;
  /** Milliseconds clock for the back-off after a failure. */
  readonly now?: () => number;
}

export interface Jwks {
  readonly getKey: JWTVerifyGetKey;
  close(): Promise<void>;
}

/** Raised for a JWKS that cannot be used right now; the resource server answers 503. */
export class JwksUnavailable extends Error {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "JwksUnavailable";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Drops a body not worth reading; its stream's abort error has nobody to tell. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on("error", () => undefined);
  body.destroy();
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new JwksUnavailable(`the JWKS is larger than ${maxBytes} bytes`, 1);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function createJwks(options: JwksOptions): Jwks {
  const url = new URL(options.url);
  if (url.protocol !== "https:") throw new TypeError("the JWKS URL must use https");
  const now = options.now ?? Date.now;
  const agent = new Agent({
    connect: options.ca !== undefined ? { ca: options.ca } : {},
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: 2,
  });
  // jose calls this as it would call fetch; it only reads status and json().
  const fetchJwks = async (
    target: string,
    init: { signal?: AbortSignal; headers?: ConstructorParameters<typeof Headers>[0] },
  ) => {
    const address = new URL(target);
    if (address.protocol !== "https:") throw new JwksUnavailable("the JWKS URL is not https", 1);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    // undici.request follows no redirects: a 3xx arrives as is and jose refuses anything but 200.
    const response = await request(address, {
      method: "GET",
      headers,
      dispatcher: agent,
      ...(init.signal !== undefined ? { signal: init.signal } : {}),
    });
    if (response.statusCode !== 200) {
      discard(response.body);
      return new Response(null, { status: response.statusCode >= 200 ? 502 : response.statusCode });
    }
    const declared = Number(response.headers["content-length"]);
    if (declared > options.maxBytes) {
      discard(response.body);
      throw new JwksUnavailable(`the JWKS is larger than ${options.maxBytes} bytes`, 1);
    }
    const bytes = await readCapped(response.body, options.maxBytes);
    return new Response(bytes, { status: 200, headers: { "content-type": "application/json" } });
  };
  const set = createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs,
    cacheMaxAge: options.cacheMs,
    cooldownDuration: options.cooldownMs,
    [customFetch]: fetchJwks as unknown as typeof fetch,
  });
  // Failed fetches are not cached by jose; this back-off is the negative cache.
  const backoffMs = Math.min(Math.max(options.cooldownMs, 0), 5_000);
  let failedAt = Number.NEGATIVE_INFINITY;
  const getKey: JWTVerifyGetKey = async (header, token) => {
    const elapsed = now() - failedAt;
    if (!set.fresh && elapsed < backoffMs) {
      throw new JwksUnavailable(
        "the JWKS could not be fetched a moment ago",
        Math.ceil((backoffMs - elapsed) / 1000),
      );
    }
    try {
      return await set(header, token);
    } catch (error) {
      if (isFetchFailure(error)) {
        failedAt = now();
        if (error instanceof JwksUnavailable) throw error;
        throw new JwksUnavailable("the JWKS could not be fetched", Math.max(1, Math.ceil(backoffMs / 1000)), {
          cause: error,
        });
      }
      throw error;
    }
  };
  return { getKey, close: () => agent.close() };
}

/** Key-selection and signature errors are the token's fault; everything else means the key set is unusable. */
function isFetchFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return !(
    code === "ERR_JWKS_NO_MATCHING_KEY" ||
    code === "ERR_JWKS_MULTIPLE_MATCHING_KEYS" ||
    code === "ERR_JOSE_NOT_SUPPORTED" ||
    code === "ERR_JWS_INVALID" ||
    code === "ERR_JOSE_ALG_NOT_ALLOWED"
  );
}
