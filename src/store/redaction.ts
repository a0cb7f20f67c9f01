// Redaction for the audit log, and for anything else that must not carry secrets (logs, outputs). It walks
// the whole value - objects and arrays at any depth - and applies the rules of contracts/audit-events.yaml
// `redaction`, in order: account-id keys -> hashed marker; sensitive key names -> whole value replaced;
// token-, cookie- and key-looking string values -> the match replaced; then length and depth limits.
// The result is a new JSON value (the input is never mutated) and the list of what was replaced, by path.
import { AUDIT_REDACTION } from "../../generated/audit-events.gen.ts";

export interface Redaction {
  /** Dotted path with [n] for list indices, e.g. metadata.details.headers[2].value. */
  readonly field_path: string;
  /** sensitive_key | account_id | too_long | too_deep | sensitive_value | sensitive_value:<pattern name> */
  readonly reason: string;
}

export interface RedactResult {
  readonly value: unknown;
  readonly redactions: Redaction[];
}

export interface RedactOptions {
  /** Path prefix for the reported field paths, e.g. "metadata". */
  readonly path?: string;
  /**
   * Keyed account hash; with it an account id becomes [ACCOUNT:<first 12 hex of its hash>] so events about
   * the same account can be matched, without it the marker is [ACCOUNT].
   */
  readonly hashAccountId?: (accountId: string) => string;
  /** Length limits for the string values of particular top-level keys (untrusted text with max_chars). */
  readonly maxCharsByKey?: Readonly<Record<string, number>>;
  readonly maxStringChars?: number;
  readonly maxDepth?: number;
}

const REPLACEMENT = AUDIT_REDACTION.replacement;
const TRUNCATED_SUFFIX = "...[TRUNCATED]";
const TOO_DEEP = "[TRUNCATED]";
const ACCOUNT_KEYS = new Set<string>(AUDIT_REDACTION.account_id_keys);
const SENSITIVE_FRAGMENTS: readonly string[] = AUDIT_REDACTION.sensitive_key_fragments;

interface ValuePattern {
  readonly name: string;
  readonly regex: RegExp;
  readonly replacement: string;
}

const VALUE_PATTERNS: readonly ValuePattern[] = AUDIT_REDACTION.sensitive_value_patterns.map((pattern) => ({
  name: pattern.name,
  regex: new RegExp(pattern.regex, `${pattern.flags}g`),
  // An account id found in free text is replaced by a marker that says what it was, without its value.
  replacement: pattern.name === "account_id_value" ? "[ACCOUNT]" : `[REDACTED:${pattern.name}]`,
}));

interface Exemption {
  readonly suffixes: readonly string[];
  readonly regex: RegExp;
  readonly skips: ReadonlySet<string>;
}

const EXEMPTIONS: readonly Exemption[] = AUDIT_REDACTION.exempt_values.map((entry) => ({
  suffixes: entry.key_suffixes,
  regex: new RegExp(entry.regex),
  skips: new Set<string>(entry.skips),
}));

const NO_SKIPS: ReadonlySet<string> = new Set();

/** Rules an exempt value skips: only when the key has the suffix AND the whole value matches. */
function exemptionFor(key: string | null, value: string): ReadonlySet<string> {
  if (key === null) return NO_SKIPS;
  for (const exemption of EXEMPTIONS) {
    if (exemption.suffixes.some((suffix) => key.endsWith(suffix)) && exemption.regex.test(value)) {
      return exemption.skips;
    }
  }
  return NO_SKIPS;
}

function isSensitiveKey(lowerKey: string): boolean {
  for (const fragment of SENSITIVE_FRAGMENTS) if (lowerKey.includes(fragment)) return true;
  return false;
}

function joinKey(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Redacts a value. Pure apart from calling hashAccountId. */
export function redact(value: unknown, options: RedactOptions = {}): RedactResult {
  const redactions: Redaction[] = [];
  const maxStringChars = options.maxStringChars ?? AUDIT_REDACTION.max_string_chars;
  const maxDepth = options.maxDepth ?? AUDIT_REDACTION.max_depth;
  const hash = options.hashAccountId;

  const note = (field_path: string, reason: string) => {
    redactions.push({ field_path, reason });
  };

  const accountMarker = (id: string) => (hash ? `[ACCOUNT:${hash(id).slice(0, 12)}]` : "[ACCOUNT]");

  const scrubString = (text: string, path: string, key: string | null, limit: number): string => {
    const skips = exemptionFor(key, text);
    let out = text;
    if (!skips.has("sensitive_value")) {
      for (const pattern of VALUE_PATTERNS) {
        pattern.regex.lastIndex = 0;
        if (!pattern.regex.test(out)) continue;
        pattern.regex.lastIndex = 0;
        out = out.replace(pattern.regex, pattern.replacement);
        note(path, `sensitive_value:${pattern.name}`);
      }
    }
    if (out.length > limit) {
      out = out.slice(0, limit) + TRUNCATED_SUFFIX;
      note(path, "too_long");
    }
    return out;
  };

  /** Object keys can carry values too (P&L maps are keyed by account id); scrub them like strings. */
  const scrubKey = (key: string, path: string, taken: Set<string>): string => {
    let out = key;
    for (const pattern of VALUE_PATTERNS) {
      pattern.regex.lastIndex = 0;
      if (!pattern.regex.test(out)) continue;
      pattern.regex.lastIndex = 0;
      out = out.replace(pattern.regex, pattern.replacement);
    }
    if (out !== key) {
      let unique = out;
      for (let n = 2; taken.has(unique); n += 1) unique = `${out}#${n}`;
      note(joinKey(path, unique), "sensitive_value");
      out = unique;
    }
    taken.add(out);
    return out;
  };

  // `key` is the nearest object key (list elements inherit their list's key), lower-cased.
  const walk = (input: unknown, path: string, key: string | null, depth: number, limit: number): unknown => {
    let current = input;
    if (current === undefined || current === null) return null;
    if (typeof current === "function" || typeof current === "symbol") return undefined;
    if (typeof current === "bigint") current = current.toString();
    else if (current instanceof Date)
      current = Number.isNaN(current.getTime()) ? null : current.toISOString();
    else if (current instanceof Uint8Array) {
      // Raw bytes are most likely key material; nothing in the audit model is binary.
      note(path, "sensitive_value");
      return REPLACEMENT;
    }
    if (typeof current === "number" && !Number.isFinite(current)) return null;
    if (current === null) return null;

    if (key !== null) {
      if (ACCOUNT_KEYS.has(key)) {
        if (typeof current === "string" || typeof current === "number") {
          note(path, "account_id");
          return accountMarker(String(current));
        }
        if (Array.isArray(current)) {
          if (depth >= maxDepth) {
            note(path, "too_deep");
            return TOO_DEEP;
          }
          return current.map((item, index) => {
            const itemPath = `${path}[${index}]`;
            if (typeof item === "string" || typeof item === "number") {
              note(itemPath, "account_id");
              return accountMarker(String(item));
            }
            return walk(item, itemPath, null, depth + 1, maxStringChars) ?? null;
          });
        }
      } else if (isSensitiveKey(key)) {
        const skips = typeof current === "string" ? exemptionFor(key, current) : NO_SKIPS;
        if (!skips.has("sensitive_key")) {
          note(path, "sensitive_key");
          return REPLACEMENT;
        }
      }
    }

    if (typeof current === "string") return scrubString(current, path, key, limit);
    if (typeof current !== "object") return current;

    if (depth >= maxDepth) {
      note(path, "too_deep");
      return TOO_DEEP;
    }
    if (Array.isArray(current)) {
      return current.map((item, index) => walk(item, `${path}[${index}]`, key, depth + 1, limit) ?? null);
    }
    const out: Record<string, unknown> = {};
    const taken = new Set<string>();
    for (const [childKey, childValue] of Object.entries(current as Record<string, unknown>)) {
      if (childValue === undefined) continue;
      const safeKey = scrubKey(childKey, path, taken);
      const childLimit = depth === 0 ? (options.maxCharsByKey?.[childKey] ?? maxStringChars) : maxStringChars;
      const child = walk(childValue, joinKey(path, safeKey), childKey.toLowerCase(), depth + 1, childLimit);
      if (child !== undefined) out[safeKey] = child;
    }
    return out;
  };

  const result = walk(value, options.path ?? "", null, 0, maxStringChars);
  return { value: result === undefined ? null : result, redactions };
}

/**
 * Paths where a value still looks like a raw account id: a non-hash value under an account key, or an
 * account-id-looking string anywhere. Stores refuse payloads with any (raw account ids never reach the store).
 */
export function findRawAccountIds(value: unknown, path = ""): string[] {
  const found: string[] = [];
  const accountValue = VALUE_PATTERNS.find((pattern) => pattern.name === "account_id_value")?.regex;
  const looksRaw = (text: string) => {
    if (!accountValue) return false;
    accountValue.lastIndex = 0;
    return accountValue.test(text);
  };
  const visit = (current: unknown, at: string, underAccountKey: boolean) => {
    if (typeof current === "string") {
      if (looksRaw(current) || (underAccountKey && !/^\[ACCOUNT(?::[0-9a-f]{12})?\]$/.test(current)))
        found.push(at);
      return;
    }
    if (typeof current === "number") {
      if (underAccountKey) found.push(at);
      return;
    }
    if (Array.isArray(current)) {
      current.forEach((item, index) => {
        visit(item, `${at}[${index}]`, underAccountKey);
      });
      return;
    }
    if (current !== null && typeof current === "object") {
      for (const [key, child] of Object.entries(current as Record<string, unknown>)) {
        if (looksRaw(key)) found.push(joinKey(at, key));
        visit(child, joinKey(at, key), ACCOUNT_KEYS.has(key.toLowerCase()));
      }
    }
  };
  visit(value, path, false);
  return found;
}
