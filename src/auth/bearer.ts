// Where a bearer token may come from: the Authorization header only (RFC 6750 §2.1). A token in the query
// string (§2.3) lands in proxy logs, browser history and Referer headers, so a request carrying one is
// refused even when it also sends the header: the client must be fixed, not silently tolerated.
export type BearerResult =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "missing" }
  | { readonly kind: "malformed" }
  | { readonly kind: "in_query" };

/** RFC 6750 b64token; JWTs are a subset. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Far above any real access token, far below the header cap: a bound on what is parsed at all. */
const MAX_TOKEN_CHARS = 12_288;

export function extractBearer(
  authorization: string | readonly string[] | undefined,
  query: URLSearchParams,
): BearerResult {
  for (const name of query.keys()) {
    if (name.toLowerCase() === "access_token") return { kind: "in_query" };
  }
  if (authorization === undefined) return { kind: "missing" };
  // Two Authorization headers are ambiguous (which one would a proxy have checked?): refuse both.
  if (typeof authorization !== "string") return { kind: "malformed" };
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  const token = match?.[1];
  if (token === undefined) return authorization.trim() === "" ? { kind: "missing" } : { kind: "malformed" };
  if (token.length > MAX_TOKEN_CHARS || !B64TOKEN.test(token)) return { kind: "malformed" };
  return { kind: "token", token };
}
