// URLs to the Client Portal Gateway. Path parameters come from users and agents (account ids, conids, order
// ids), so a value that could change the path ("/", "..", "?", "#", a backslash the URL parser reads as "/",
// control characters) is refused instead of escaped: an id never legitimately contains one. Query values are
// percent-encoded per RFC 3986 (a space becomes %20, "+" becomes %2B): %20 means a space to every decoder,
// while "+" means a space only to form decoders. Commas stay literal because CPAPI list parameters
// (conids=1,2, fields=31,84) are comma-joined.
import type { CpapiOperationSpec } from "../../generated/cpapi/operations.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";

export const DEFAULT_BASE_URL = "https://localhost:5000/v1/api";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
const CONTROL = /[\u0000-\u001f\u007f]/;
const SEGMENT_FORBIDDEN = /[/?#\\]/;
const QUERY_KEY_FORBIDDEN = /[&=?#]/;
const MAX_SEGMENT_LENGTH = 128;
const MAX_QUERY_VALUE_LENGTH = 4_096;

export type PathValues = Readonly<Record<string, string | number>>;
export type QueryValues = Readonly<Record<string, string | number | boolean | undefined>>;

function invalidArgument(message: string, field: string): GatewayError {
  return new GatewayError("INPUT_INVALID_ARGUMENT", { message, details: { field } });
}

/** Validates the configured base URL (https, no credentials, query or fragment) and drops trailing slashes. */
export function parseBaseUrl(raw: string, options: { allowHttp?: boolean } = {}): URL {
  if (raw.trim() === "") throw new GatewayError("CONFIG_MISSING_BROKER_BASE_URL");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatewayError("CONFIG_INVALID", {
      message: "`broker.base_url` is not a valid URL.",
      details: { key: "broker.base_url" },
    });
  }
  const problems: string[] = [];
  if (url.protocol !== "https:" && !(options.allowHttp === true && url.protocol === "http:")) {
    problems.push("must use https");
  }
  if (url.username !== "" || url.password !== "") problems.push("must not carry credentials");
  if (url.search !== "" || url.hash !== "") problems.push("must not have a query or fragment");
  if (CONTROL.test(raw)) problems.push("must not contain control characters");
  if (problems.length > 0) {
    throw new GatewayError("CONFIG_INVALID", {
      message: `\`broker.base_url\` ${problems.join(", ")}.`,
      details: { key: "broker.base_url", problems },
    });
  }
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}

/** host:port of the gateway, as shown to a person ("localhost:5000"). */
export function hostPort(base: URL): string {
  const port = base.port !== "" ? base.port : base.protocol === "https:" ? "443" : "80";
  return `${base.hostname}:${port}`;
}

function pathSegment(name: string, value: string | number | undefined): string {
  if (value === undefined) throw invalidArgument(`The path parameter ${name} is missing.`, name);
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw invalidArgument(`The path parameter ${name} must be a whole number.`, name);
  }
  const text = String(value);
  if (
    text === "" ||
    text.trim() !== text ||
    text === "." ||
    text === ".." ||
    text.length > MAX_SEGMENT_LENGTH ||
    SEGMENT_FORBIDDEN.test(text) ||
    CONTROL.test(text)
  ) {
    throw invalidArgument(
      `The path parameter ${name} must be a plain identifier (no "/", "?", "#", "\\", "..", spaces at the ends or control characters).`,
      name,
    );
  }
  return encodeURIComponent(text);
}

/** Percent-encodes a query value per RFC 3986, keeping commas literal (CPAPI list separator). */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%2C/gi, ",");
}

function queryPart(operation: CpapiOperationSpec, query: QueryValues | undefined): string {
  if (query === undefined) return "";
  for (const key of Object.keys(query)) {
    if (!operation.queryParams.includes(key) || QUERY_KEY_FORBIDDEN.test(key) || CONTROL.test(key)) {
      throw invalidArgument(`${operation.operationId} has no query parameter ${JSON.stringify(key)}.`, key);
    }
  }
  const pairs: string[] = [];
  // Declared order, so identical reads build identical URLs (and coalesce) whatever order the caller used.
  for (const key of operation.queryParams) {
    const raw = query[key];
    if (raw === undefined) continue;
    if (typeof raw === "number" && !Number.isFinite(raw)) {
      throw invalidArgument(`The query parameter ${key} must be a finite number.`, key);
    }
    const text = String(raw);
    if (text === "" || text.length > MAX_QUERY_VALUE_LENGTH || CONTROL.test(text)) {
      throw invalidArgument(
        `The query parameter ${key} must be non-empty text without control characters.`,
        key,
      );
    }
    pairs.push(`${encodeURIComponent(key)}=${encodeQueryValue(text)}`);
  }
  return pairs.length === 0 ? "" : `?${pairs.join("&")}`;
}

/** The absolute URL of one call: base + path template with validated segments + encoded query. */
export function buildUrl(
  base: URL,
  operation: CpapiOperationSpec,
  path: PathValues | undefined,
  query: QueryValues | undefined,
): URL {
  for (const key of Object.keys(path ?? {})) {
    if (!operation.pathParams.includes(key)) {
      throw invalidArgument(`${operation.operationId} has no path parameter ${JSON.stringify(key)}.`, key);
    }
  }
  const resolved = operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) =>
    pathSegment(name, path?.[name]),
  );
  if (!resolved.startsWith("/") || resolved.includes("//") || CONTROL.test(resolved)) {
    throw new GatewayError("CONFIG_INVALID", {
      message: `The CPAPI path template of ${operation.operationId} is invalid.`,
      details: { operation_id: operation.operationId },
    });
  }
  const url = new URL(base.href);
  url.pathname = `${base.pathname}${resolved}`;
  url.search = queryPart(operation, query);
  return url;
}
