// Redaction of recorded CPAPI wire bodies, so answers captured from a real (paper) gateway can become
// fixtures. Everything that identifies a person, an account or a session is replaced by a placeholder, and
// consistently: the same original always becomes the same placeholder across every body of one recording,
// so "the account of this position is the account of that ledger" still holds after redaction. Keys are
// redacted too (acctProps and aliases are keyed by account id, P&L rows by "<account>.Core"), and so are
// originals inside longer strings ("desc": "U1234567 - Jane Doe").
//
// It works in two passes over all bodies: the first learns what is sensitive (by key name and by shape), the
// second rewrites. Learning everything first means a name found in one body is also caught in a body seen
// earlier, and placeholders are numbered in order of first appearance, which makes the output deterministic.
// The function is pure: inputs are never modified.

export type SensitiveKind =
  | "account"
  | "user"
  | "name"
  | "session"
  | "server"
  | "hardware"
  | "mac"
  | "ip"
  | "email"
  | "userId";

export interface RedactOptions {
  /** Account ids known to be real (listed by /iserver/accounts, given with --account), whatever they look like. */
  readonly accountIds?: readonly string[];
}

export interface RedactionResult {
  /** The redacted bodies, in input order. */
  readonly bodies: readonly unknown[];
  /** Original -> placeholder for every string replaced (for lookups by the caller; never print the keys). */
  readonly placeholders: ReadonlyMap<string, string>;
  /** How many distinct originals of each kind were replaced. */
  readonly counts: Readonly<Record<SensitiveKind, number>>;
}

/** Paper (DU), paper FA (DF), live (U) and live FA (F) account ids. */
export const ACCOUNT_ID_PATTERN = /^(DU|DF|U|F)\d{5,}$/;

const ACCOUNT_IN_TEXT = /(?<![A-Za-z0-9])(?:DU|DF|U|F)\d{5,}(?![A-Za-z0-9])/;
const EMAIL_IN_TEXT = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;
const MAC_IN_TEXT = /(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])/;
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4_IN_TEXT = new RegExp(`(?<![\\d.])(?:${OCTET}\\.){3}${OCTET}(?![\\d.])`);
// Full eight-group form, or a compressed form with "::". Clock times ("4:29:57") have neither.
const H = "[0-9A-Fa-f]{1,4}";
const IPV6_IN_TEXT = new RegExp(
  `(?<![0-9A-Fa-f:])(?:(?:${H}:){7}${H}|(?:${H}:){1,6}:(?:${H}(?::${H}){0,5})?|::${H}(?::${H}){0,6})(?![0-9A-Fa-f:])`,
);

/** Shapes recognised anywhere, in the order they are tried at one position. */
const SHAPES: readonly { readonly kind: SensitiveKind; readonly pattern: RegExp }[] = [
  { kind: "email", pattern: EMAIL_IN_TEXT },
  { kind: "mac", pattern: MAC_IN_TEXT },
  { kind: "account", pattern: ACCOUNT_IN_TEXT },
  { kind: "ip", pattern: IPV4_IN_TEXT },
  { kind: "ip", pattern: IPV6_IN_TEXT },
];

/**
 * Keys (lower-cased, otherwise as spelled on the wire) whose string value is sensitive, and what it is.
 * Spellings are listed one by one rather than normalised: "displayName" is an account's title, while the
 * scanner's "display_name" is the label of a scan ("Top % Gainers") and must stay.
 */
const KEY_KINDS: Readonly<Record<string, SensitiveKind>> = {
  accountid: "account",
  account_id: "account",
  acctid: "account",
  acct: "account",
  account: "account",
  accountcode: "account",
  acctcode: "account",
  accountvan: "account",
  selectedaccount: "account",
  account_allocation_name: "account",
  order_clearing_account: "account",
  username: "user",
  user_name: "user",
  paper_user_name: "user",
  credential: "user",
  submitter: "user",
  loginname: "user",
  login_name: "user",
  displayname: "name",
  accounttitle: "name",
  accountalias: "name",
  accountname: "name",
  session: "session",
  sessionid: "session",
  session_id: "session",
  servername: "server",
  hardware_info: "hardware",
  hardwareinfo: "hardware",
  mac: "mac",
  ip: "ip",
  email: "email",
  userid: "userId",
  user_id: "userId",
};

/** Originals shorter than this are replaced only where they are a whole value, never inside text. */
const MIN_EMBEDDED_LENGTH = 3;

function lower(key: string): string {
  return key.toLowerCase();
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** IPv4 documentation ranges (RFC 5737), 254 addresses each. */
function ipv4Placeholder(n: number): string {
  const ranges = ["192.0.2", "198.51.100", "203.0.113"];
  const range = ranges[Math.floor((n - 1) / 254) % ranges.length] as string;
  return `${range}.${((n - 1) % 254) + 1}`;
}

interface Table {
  readonly placeholders: Map<string, string>;
  readonly kinds: Map<string, SensitiveKind>;
  readonly userIds: Map<number, number>;
  readonly counters: Map<string, number>;
  readonly counts: Record<SensitiveKind, number>;
}

function next(table: Table, counter: string): number {
  const n = (table.counters.get(counter) ?? 0) + 1;
  table.counters.set(counter, n);
  return n;
}

function placeholderOf(table: Table, kind: SensitiveKind, original: string): string {
  switch (kind) {
    case "account": {
      const prefix = /^(DU|DF|U|F)\d/.exec(original)?.[1];
      if (prefix === undefined) return `ACCT${pad(next(table, "account:other"), 7)}`;
      return `${prefix}${pad(next(table, `account:${prefix}`), 7)}`;
    }
    case "user":
      return `recorded_user_${next(table, kind)}`;
    case "name":
      return `Recorded User ${next(table, kind)}`;
    case "session":
      return `recorded-session-${next(table, kind)}`;
    case "server":
      return `recorded-server-${next(table, kind)}`;
    case "mac": {
      const n = next(table, kind);
      return `00:00:5E:00:53:${(n % 256).toString(16).toUpperCase().padStart(2, "0")}`;
    }
    case "ip":
      return original.includes(":")
        ? `2001:db8::${next(table, "ipv6").toString(16)}`
        : ipv4Placeholder(next(table, "ipv4"));
    case "email":
      return `recorded.user.${next(table, kind)}@example.com`;
    case "hardware": {
      // "<hardware id>|<MAC>": keep the shape, and let the MAC part share the MAC's own placeholder.
      const parts = /^([^|]+)\|(.+)$/.exec(original);
      if (parts !== null) {
        const id = learn(table, "hardware", parts[1] as string) ?? (parts[1] as string);
        const mac = learn(table, "mac", parts[2] as string) ?? (parts[2] as string);
        return `${id}|${mac}`;
      }
      return `recorded-hardware-${next(table, kind)}`;
    }
    case "userId":
      return String(100_000_000 + next(table, kind));
  }
}

/** Records `original` as sensitive (once) and returns its placeholder; empty or trivial values are skipped. */
function learn(table: Table, kind: SensitiveKind, original: string): string | undefined {
  const known = table.placeholders.get(original);
  if (known !== undefined) return known;
  if (original.trim() === "" || original === "All") return undefined;
  // Shape beats key: an account id under a name key is still an account id.
  const effective = kind !== "account" && ACCOUNT_ID_PATTERN.test(original) ? "account" : kind;
  const placeholder = placeholderOf(table, effective, original);
  table.placeholders.set(original, placeholder);
  table.kinds.set(original, effective);
  table.counts[effective] += 1;
  return placeholder;
}

function learnUserId(table: Table, value: number): void {
  if (!Number.isFinite(value) || table.userIds.has(value)) return;
  const text = learn(table, "userId", String(value));
  if (text !== undefined) table.userIds.set(value, Number(text));
}

function scanText(table: Table, text: string): void {
  for (const { kind, pattern } of SHAPES) {
    for (const match of text.matchAll(new RegExp(pattern.source, "g"))) learn(table, kind, match[0]);
  }
}

/** Pass 1: walk everything, learning sensitive originals by key and by shape. */
function collect(table: Table, value: unknown, key: string | null, parentKey: string | null): void {
  const kind = key === null ? undefined : KEY_KINDS[lower(key)];
  if (typeof value === "string") {
    if (kind === "userId") learn(table, "userId", value);
    else if (kind !== undefined) learn(table, kind, value);
    // The list of /iserver/accounts, and the account-keyed alias table, whose values are alias names.
    if (key === null && parentKey !== null && lower(parentKey) === "accounts") learn(table, "account", value);
    if (parentKey !== null && lower(parentKey) === "aliases" && key !== null && key !== "All") {
      learn(table, "account", key);
      if (value !== key) learn(table, "name", value);
    }
    // "desc": "<account> - <title>": the title is a person's name.
    const desc = key === "desc" ? /^(\S+) - (.+)$/.exec(value) : null;
    if (desc !== null && ACCOUNT_ID_PATTERN.test(desc[1] as string)) learn(table, "name", desc[2] as string);
    scanText(table, value);
    return;
  }
  if (typeof value === "number") {
    if (kind === "userId") learnUserId(table, value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(table, item, null, key);
    return;
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    // Summary rows such as "accountcode": {"value": "U1234567", ...} carry the id one level down.
    if (kind === "account" && typeof record.value === "string") learn(table, "account", record.value);
    if (parentKey !== null && lower(parentKey) === "acctprops" && key !== null) learn(table, "account", key);
    for (const [childKey, child] of Object.entries(record)) {
      scanText(table, childKey);
      collect(table, child, childKey, key);
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One regular expression for every learned original (longest first) and every shape, applied in one pass. */
function embeddedMatcher(table: Table): RegExp | null {
  const originals = [...table.placeholders.keys()]
    .filter((original) => original.length >= MIN_EMBEDDED_LENGTH)
    .sort((a, b) => b.length - a.length || (a < b ? -1 : 1))
    .map(escapeRegExp);
  const parts = SHAPES.map(({ pattern }) => pattern.source);
  if (originals.length > 0) parts.unshift(`(?<![A-Za-z0-9])(?:${originals.join("|")})(?![A-Za-z0-9])`);
  return parts.length === 0 ? null : new RegExp(parts.join("|"), "g");
}

/** Pass 2: a fresh copy with every learned original replaced, in values, inside text and in keys. */
function rewrite(table: Table, matcher: RegExp | null, value: unknown, key: string | null): unknown {
  const keyKind = key === null ? undefined : KEY_KINDS[lower(key)];
  const text = (input: string, kind: SensitiveKind | undefined): string => {
    const whole = table.placeholders.get(input);
    // A very short original ("A", "1") is replaced only where its own key holds it, not in every "1".
    if (whole !== undefined && (input.length >= MIN_EMBEDDED_LENGTH || kind === table.kinds.get(input))) {
      return whole;
    }
    if (matcher === null) return input;
    // Replaced in a single scan, so a placeholder just written is never matched again.
    return input.replace(matcher, (match) => table.placeholders.get(match) ?? match);
  };
  if (typeof value === "string") return text(value, keyKind);
  if (typeof value === "number") return keyKind === "userId" ? (table.userIds.get(value) ?? value) : value;
  if (Array.isArray(value)) return value.map((item) => rewrite(table, matcher, item, null));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [childKey, child] of Object.entries(value as Record<string, unknown>)) {
      out[text(childKey, undefined)] = rewrite(table, matcher, child, childKey);
    }
    return out;
  }
  return value;
}

function emptyCounts(): Record<SensitiveKind, number> {
  return {
    account: 0,
    user: 0,
    name: 0,
    session: 0,
    server: 0,
    hardware: 0,
    mac: 0,
    ip: 0,
    email: 0,
    userId: 0,
  };
}

/** Redacts the bodies of one recording together, so placeholders are consistent across all of them. */
export function redactRecordings(bodies: readonly unknown[], options: RedactOptions = {}): RedactionResult {
  const table: Table = {
    placeholders: new Map(),
    kinds: new Map(),
    userIds: new Map(),
    counters: new Map(),
    counts: emptyCounts(),
  };
  for (const id of options.accountIds ?? []) learn(table, "account", id);
  for (const body of bodies) collect(table, body, null, null);
  const matcher = embeddedMatcher(table);
  return {
    bodies: bodies.map((body) => rewrite(table, matcher, body, null)),
    placeholders: new Map(table.placeholders),
    counts: { ...table.counts },
  };
}

/** Redacts one body on its own (placeholders are numbered within this body only). */
export function redactBody(body: unknown, options: RedactOptions = {}): unknown {
  return redactRecordings([body], options).bodies[0];
}
