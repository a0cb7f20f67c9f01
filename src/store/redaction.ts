// Redaction for the audit log, and for anything else that must not carry secrets (logs, outputs). It walks
// the whole value - objects and arrays at any depth - and applies the rules of contracts/audit-events.yaml
// `redaction`, in order: account-id keys -> hashed marker; sensitive key names -> whole value replaced;
// token-, cookie- and key-looking string values -> the match replaced; then length and depth limits.
// The result is a new JSON value (the input is never mutated) and the list of what was replaced, by path.
// Every event, stored record and tool result passes through here, so the common case is kept cheap: what a
// key means is worked out once per key name, and a string is scanned once for all value patterns together.
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
const ACCOUNT_VALUE_PATTERN = "account_id_value";

interface ValuePattern {
  readonly name: string;
  readonly regex: RegExp;
  readonly replacement: string;
}

const VALUE_PATTERNS: readonly ValuePattern[] = AUDIT_REDACTION.sensitive_value_patterns.map((pattern) => ({
  name: pattern.name,
  regex: new RegExp(pattern.regex, `${pattern.flags}g`),
  // An account id found in free text is replaced by a marker that says what it was, without its value.
  replacement: pattern.name === ACCOUNT_VALUE_PATTERN ? "[ACCOUNT]" : `[REDACTED:${pattern.name}]`,
}));

/**
 * One regex that matches wherever any value pattern matches (each keeps its own case rule through a
 * modifier group). Almost no string matches any pattern, and one scan costs far less than one per pattern;
 * a string that does match runs the patterns one by one, as the contract orders them. Null when the
 * patterns cannot be joined (a flag other than i, a numbered back-reference): then each runs on its own.
 */
const ANY_VALUE_PATTERN: RegExp | null = (() => {
  const patterns = AUDIT_REDACTION.sensitive_value_patterns as readonly { regex: string; flags: string }[];
  if (patterns.some((p) => /[^i]/.test(p.flags) || /\\[1-9]/.test(p.regex))) return null;
  try {
    return new RegExp(
      patterns.map((p) => (p.flags === "i" ? `(?i:${p.regex})` : `(?:${p.regex})`)).join("|"),
    );
  } catch {
    return null;
  }
})();

interface Scrubbed {
  readonly text: string;
  /** Names of the patterns that replaced something, in the order they ran. */
  readonly patterns: readonly string[];
}

/**
 * Short strings no value pattern matches, remembered: events and results repeat the same small vocabulary
 * (sides, order types, symbols, currencies, statuses) call after call. Whether a string matches is a pure
 * function of the string, so the memo can only save a scan, never change an answer.
 */
const CLEAN_STRINGS = new Set<string>();
const CLEAN_STRING_MAX_CHARS = 32;
const CLEAN_STRINGS_LIMIT = 4096;

/** True when no value pattern matches anywhere in the text. */
function matchesNoPattern(text: string): boolean {
  if (ANY_VALUE_PATTERN === null) return false;
  if (CLEAN_STRINGS.has(text)) return true;
  if (ANY_VALUE_PATTERN.test(text)) return false;
  if (text.length <= CLEAN_STRING_MAX_CHARS) {
    if (CLEAN_STRINGS.size >= CLEAN_STRINGS_LIMIT) CLEAN_STRINGS.clear();
    CLEAN_STRINGS.add(text);
  }
  return true;
}

/** Replaces every value-pattern match, pattern by pattern in contract order; null when nothing matches. */
function scrubValuePatterns(text: string, skips: ReadonlySet<string> = NO_SKIPS): Scrubbed | null {
  if (matchesNoPattern(text)) return null;
  let out = text;
  const names: string[] = [];
  for (const pattern of VALUE_PATTERNS) {
    // An exemption may lift single patterns ("sensitive_value:long_hex") instead of all of them.
    if (skips.size > 0 && skips.has(`sensitive_value:${pattern.name}`)) continue;
    pattern.regex.lastIndex = 0;
    if (!pattern.regex.test(out)) continue;
    pattern.regex.lastIndex = 0;
    out = out.replace(pattern.regex, pattern.replacement);
    names.push(pattern.name);
  }
  return names.length === 0 ? null : { text: out, patterns: names };
}

const NO_SKIPS: ReadonlySet<string> = new Set();

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

function isSensitiveKey(lowerKey: string): boolean {
  for (const fragment of SENSITIVE_FRAGMENTS) if (lowerKey.includes(fragment)) return true;
  return false;
}

/** What the rules say about one object key; a pure function of the key, so it is worked out once per name. */
interface KeyRules {
  /** The lower-cased key the rules match (list elements inherit their list's). */
  readonly lower: string;
  readonly account: boolean;
  /** A sensitive key name (never true for an account key: that rule comes first). */
  readonly sensitive: boolean;
  /** The exempt_values entries whose key suffixes this key has, in contract order. */
  readonly exemptions: readonly Exemption[];
  /** The key itself with its value-pattern matches replaced (P&L maps are keyed by account id), or null. */
  readonly scrubbed: string | null;
}

const KEY_RULES = new Map<string, KeyRules>();
/** Key names are mostly a fixed vocabulary; a flood of distinct ones (client input) only empties the memo. */
const KEY_RULES_LIMIT = 4096;

function rulesOf(key: string): KeyRules {
  let rules = KEY_RULES.get(key);
  if (rules === undefined) {
    const lower = key.toLowerCase();
    const account = ACCOUNT_KEYS.has(lower);
    rules = {
      lower,
      account,
      sensitive: !account && isSensitiveKey(lower),
      exemptions: EXEMPTIONS.filter((exemption) =>
        exemption.suffixes.some((suffix) => lower.endsWith(suffix)),
      ),
      scrubbed: scrubValuePatterns(key)?.text ?? null,
    };
    if (KEY_RULES.size >= KEY_RULES_LIMIT) KEY_RULES.clear();
    KEY_RULES.set(key, rules);
  }
  return rules;
}

/** Rules an exempt value skips: only when the key has the suffix AND the whole value matches. */
function exemptionFor(rules: KeyRules | null, value: string): ReadonlySet<string> {
  if (rules === null) return NO_SKIPS;
  for (const exemption of rules.exemptions) if (exemption.regex.test(value)) return exemption.skips;
  return NO_SKIPS;
}

function joinKey(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/**
 * The keys of an object's entries before index `end` that were taken as they are (every earlier key was
 * clean): made only when a scrubbed key needs a unique name, which is rare.
 */
function takenBefore(entries: readonly [string, unknown][], end: number): Set<string> {
  const taken = new Set<string>();
  for (let i = 0; i < end; i += 1) {
    const entry = entries[i] as [string, unknown];
    if (entry[1] !== undefined) taken.add(entry[0]);
  }
  return taken;
}

function uniqueKey(scrubbed: string, taken: ReadonlySet<string>): string {
  let unique = scrubbed;
  for (let n = 2; taken.has(unique); n += 1) unique = `${scrubbed}#${n}`;
  return unique;
}

/**
 * One walk for both uses: `build` makes the redacted copy; without it the walk only reports (findSecrets),
 * so the rules and their order exist once.
 */
interface Walk {
  readonly build: boolean;
  readonly note: (path: string, reason: string) => void;
  readonly hash: ((accountId: string) => string) | undefined;
  readonly maxStringChars: number;
  readonly maxDepth: number;
  readonly maxCharsByKey: Readonly<Record<string, number>> | undefined;
}

function accountMarker(walk: Walk, id: string): string {
  return walk.hash ? `[ACCOUNT:${walk.hash(id).slice(0, 12)}]` : "[ACCOUNT]";
}

function scrubString(walk: Walk, text: string, path: string, rules: KeyRules | null, limit: number): string {
  let out = text;
  // The exemption first: gateway digests and ids are exactly the strings the value patterns match.
  const skips = exemptionFor(rules, text);
  const scrubbed = skips.has("sensitive_value") ? null : scrubValuePatterns(text, skips);
  if (scrubbed !== null) {
    out = scrubbed.text;
    for (const name of scrubbed.patterns) walk.note(path, `sensitive_value:${name}`);
  }
  if (out.length > limit) {
    if (walk.build) out = out.slice(0, limit) + TRUNCATED_SUFFIX;
    walk.note(path, "too_long");
  }
  return out;
}

// `rules` are those of the nearest object key (list elements inherit their list's key).
function walkValue(
  walk: Walk,
  input: unknown,
  path: string,
  rules: KeyRules | null,
  depth: number,
  limit: number,
): unknown {
  let current = input;
  if (current === undefined || current === null) return null;
  if (typeof current === "function" || typeof current === "symbol") return undefined;
  if (typeof current === "bigint") current = current.toString();
  else if (current instanceof Date) current = Number.isNaN(current.getTime()) ? null : current.toISOString();
  else if (current instanceof Uint8Array) {
    // Raw bytes are most likely key material; nothing in the audit model is binary.
    walk.note(path, "sensitive_value");
    return REPLACEMENT;
  }
  if (typeof current === "number" && !Number.isFinite(current)) return null;
  if (current === null) return null;

  if (rules !== null) {
    if (rules.account) {
      if (typeof current === "string" || typeof current === "number") {
        walk.note(path, "account_id");
        return walk.build ? accountMarker(walk, String(current)) : undefined;
      }
      if (Array.isArray(current)) {
        if (depth >= walk.maxDepth) {
          walk.note(path, "too_deep");
          return TOO_DEEP;
        }
        const items = current as unknown[];
        const out: unknown[] | null = walk.build ? new Array(items.length) : null;
        for (let index = 0; index < items.length; index += 1) {
          if (!(index in items)) continue; // a hole stays a hole, as Array.prototype.map leaves it
          const item = items[index];
          const itemPath = `${path}[${index}]`;
          let value: unknown;
          if (typeof item === "string" || typeof item === "number") {
            walk.note(itemPath, "account_id");
            value = walk.build ? accountMarker(walk, String(item)) : undefined;
          } else {
            value = walkValue(walk, item, itemPath, null, depth + 1, walk.maxStringChars) ?? null;
          }
          if (out !== null) out[index] = value;
        }
        return out;
      }
    } else if (rules.sensitive) {
      const skips = typeof current === "string" ? exemptionFor(rules, current) : NO_SKIPS;
      if (!skips.has("sensitive_key")) {
        walk.note(path, "sensitive_key");
        return REPLACEMENT;
      }
    }
  }

  if (typeof current === "string") return scrubString(walk, current, path, rules, limit);
  if (typeof current !== "object") return current;

  if (depth >= walk.maxDepth) {
    walk.note(path, "too_deep");
    return TOO_DEEP;
  }
  if (Array.isArray(current)) {
    const items = current as unknown[];
    const out: unknown[] | null = walk.build ? new Array(items.length) : null;
    for (let index = 0; index < items.length; index += 1) {
      if (!(index in items)) continue;
      const value = walkValue(walk, items[index], `${path}[${index}]`, rules, depth + 1, limit) ?? null;
      if (out !== null) out[index] = value;
    }
    return out;
  }
  const entries = Object.entries(current as Record<string, unknown>);
  const out: Record<string, unknown> | null = walk.build ? {} : null;
  // Keys taken so far, made when the first scrubbed key of this object needs a unique name.
  let taken: Set<string> | null = null;
  for (let i = 0; i < entries.length; i += 1) {
    const [childKey, childValue] = entries[i] as [string, unknown];
    if (childValue === undefined) continue;
    const childRules = rulesOf(childKey);
    let safeKey = childKey;
    if (childRules.scrubbed !== null) {
      taken ??= takenBefore(entries, i);
      safeKey = uniqueKey(childRules.scrubbed, taken);
      walk.note(joinKey(path, safeKey), "sensitive_value");
    }
    taken?.add(safeKey);
    const childLimit =
      depth === 0 ? (walk.maxCharsByKey?.[childKey] ?? walk.maxStringChars) : walk.maxStringChars;
    const child = walkValue(walk, childValue, joinKey(path, safeKey), childRules, depth + 1, childLimit);
    if (out !== null && child !== undefined) out[safeKey] = child;
  }
  return out;
}

/** Redacts a value. Pure apart from calling hashAccountId. */
export function redact(value: unknown, options: RedactOptions = {}): RedactResult {
  const redactions: Redaction[] = [];
  const maxStringChars = options.maxStringChars ?? AUDIT_REDACTION.max_string_chars;
  const walk: Walk = {
    build: true,
    note: (field_path, reason) => {
      redactions.push({ field_path, reason });
    },
    hash: options.hashAccountId,
    maxStringChars,
    maxDepth: options.maxDepth ?? AUDIT_REDACTION.max_depth,
    maxCharsByKey: options.maxCharsByKey,
  };
  const result = walkValue(walk, value, options.path ?? "", null, 0, maxStringChars);
  return { value: result === undefined ? null : result, redactions };
}

/**
 * Paths where a value still looks like a raw account id: a non-hash value under an account key, or an
 * account-id-looking string anywhere. Stores refuse payloads with any (raw account ids never reach the store).
 */
export function findRawAccountIds(value: unknown, path = ""): string[] {
  const found: string[] = [];
  const accountValue = VALUE_PATTERNS.find((pattern) => pattern.name === ACCOUNT_VALUE_PATTERN)?.regex;
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

/** Secret material as findSecrets counts it: a sensitive key or value, but an account id is not a secret. */
function isSecretReason(reason: string): boolean {
  return (
    reason === "sensitive_key" ||
    (reason.startsWith("sensitive_value") && reason !== `sensitive_value:${ACCOUNT_VALUE_PATTERN}`)
  );
}

/**
 * Paths of values redaction would treat as secret material (a sensitive key name, a token-, cookie- or
 * key-looking string), not counting account ids. The gateway withholds a result with any (secret-scan.ts),
 * and the sidecar relay refuses to forward a call whose arguments hold any (src/sidecar/forward-policy.ts).
 * The same walk as redact(), without building the redacted copy: each path as redact() would report it.
 */
export function findSecrets(value: unknown): string[] {
  const found: string[] = [];
  const walk: Walk = {
    build: false,
    note: (path, reason) => {
      if (isSecretReason(reason)) found.push(path);
    },
    hash: undefined,
    maxStringChars: AUDIT_REDACTION.max_string_chars,
    maxDepth: AUDIT_REDACTION.max_depth,
    maxCharsByKey: undefined,
  };
  walkValue(walk, value, "", null, 0, AUDIT_REDACTION.max_string_chars);
  return found;
}
