// What may cross the relay, decided the same way at both ends: the remote screens a call before it forwards
// it, and the sidecar screens it again on arrival, because it must not trust the remote to have done so.
//
// (a) The payload screen. A forwarded call carries the tool, its arguments and the scopes the remote granted
//     (plus the request id and payload hash in the envelope). It must never carry an MCP bearer token, a JWT,
//     a broker cookie, a credential or a path on someone's disk. Secret material is found with the store's
//     redaction rules (contracts/audit-events.yaml `redaction`, the same ones the gateway's output scan and
//     the audit log use), so "looks like a token" means one thing everywhere. Local paths are the relay's own
//     concern (no tool argument is a path, and a path means nothing on the other machine), so their patterns
//     live here.
// (b) The tier policy. The sidecar runs over the relay only the tiers its own configuration accepts
//     (sidecar.accepted_tiers, default read and preview); the configuration rules already require paper and
//     live to be enabled on the sidecar before they may be listed.
import { isScopeName, type ScopeName, TIERS, type Tier } from "../../generated/scopes.gen.ts";
import { isToolName, TOOLS } from "../../generated/tools/registry.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";
import { findSecrets } from "../store/redaction.ts";

/** The parts of a forwarded call the screen looks at (the body of a relay `call` message). */
export interface ForwardedCall {
  readonly tool: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly granted_scopes: readonly string[];
}

export type ScreenReason = "secret" | "local_path";

export interface ScreenFinding {
  /** Where the unsafe value sits, e.g. arguments.note or arguments.legs[1].memo; never the value. */
  readonly path: string;
  readonly reason: ScreenReason;
}

/** Key names that announce a file or directory (split on case and punctuation, then compared as words). */
const PATH_KEY_WORDS: ReadonlySet<string> = new Set([
  "path",
  "paths",
  "file",
  "files",
  "filename",
  "filepath",
  "dir",
  "dirs",
  "directory",
  "folder",
]);

// A value names a local path when it starts as one (an absolute POSIX path of two or more segments, ~/,
// a drive letter, a UNC share) or contains a file: URL or a well-known home or system root anywhere in
// its text. A single leading slash ("/ES" for a future) is not a path.
const BOUNDARY = `(?:^|[\\s"'(<=:,;])`;
const LOCAL_PATH_PATTERNS: readonly RegExp[] = [
  /^\/[^/\s]+\//,
  /^~[A-Za-z0-9._-]*[/\\]/,
  new RegExp(`${BOUNDARY}[A-Za-z]:[\\\\/]`),
  new RegExp(`${BOUNDARY}\\\\\\\\[^\\\\\\s]+\\\\`),
  /\bfile:\//i,
  new RegExp(
    `${BOUNDARY}(?:~|/(?:home|Users|root|etc|var|tmp|private|opt|usr|mnt|media|srv|run|proc|dev|Volumes|Library|System|Applications))(?:/|\\\\)`,
  ),
];

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "");
}

function looksLikeLocalPath(text: string): boolean {
  return LOCAL_PATH_PATTERNS.some((pattern) => pattern.test(text));
}

function joinPath(base: string, key: string | number): string {
  return typeof key === "number" ? `${base}[${key}]` : base === "" ? key : `${base}.${key}`;
}

function localPaths(value: unknown, base: string, out: ScreenFinding[]): void {
  if (typeof value === "string") {
    if (looksLikeLocalPath(value)) out.push({ path: base, reason: "local_path" });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      localPaths(item, joinPath(base, index), out);
    });
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const path = joinPath(base, key);
      if (keyWords(key).some((word) => PATH_KEY_WORDS.has(word)) || looksLikeLocalPath(key)) {
        out.push({ path, reason: "local_path" });
        continue;
      }
      localPaths(child, path, out);
    }
  }
}

/** Every unsafe value of a forwarded call, in path order; empty when it may cross the relay. */
export function screenForwardedCall(call: ForwardedCall): ScreenFinding[] {
  const subject = { tool: call.tool, arguments: call.arguments, granted_scopes: call.granted_scopes };
  const findings: ScreenFinding[] = findSecrets(subject).map((path) => ({ path, reason: "secret" }));
  const seen = new Set(findings.map((finding) => finding.path));
  const paths: ScreenFinding[] = [];
  localPaths(subject, "", paths);
  for (const finding of paths) if (!seen.has(finding.path)) findings.push(finding);
  return findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export type RelaySide = "remote" | "sidecar";

/**
 * Throws SIDECAR_PAYLOAD_REFUSED unless the call may cross the relay. `side` says which end refused: the
 * remote before forwarding, the sidecar on arrival. The error names the first unsafe path, never its value.
 */
export function assertForwardable(call: ForwardedCall, side: RelaySide): void {
  const findings = screenForwardedCall(call);
  const first = findings[0];
  if (first === undefined) return;
  const what = first.reason === "secret" ? "a token, cookie, key or credential" : "a local file path";
  throw new GatewayError("SIDECAR_PAYLOAD_REFUSED", {
    message:
      side === "remote"
        ? `The call was not forwarded to the sidecar: ${first.path} looks like ${what}.`
        : `The sidecar refused the forwarded call: ${first.path} looks like ${what}.`,
    details: {
      side,
      unsafe_key_path: first.path,
      reason: first.reason,
      unsafe_paths: findings.map((finding) => finding.path).slice(0, 20),
    },
  });
}

/** The tier of a tool, or undefined for a name that is no tool. */
export function toolTier(tool: string): Tier | undefined {
  return isToolName(tool) ? TOOLS[tool].tier : undefined;
}

/** The accepted tiers of a sidecar configuration, in catalogue order (unknown names are ignored). */
export function acceptedTiers(sidecar: { readonly accepted_tiers: readonly string[] }): Tier[] {
  return TIERS.filter((tier) => sidecar.accepted_tiers.includes(tier));
}

const TIER_NEEDS: Partial<Record<Tier, string>> = {
  paper: " and enable paper_trading (with safety.paper_trading_enabled)",
  live: " and enable live_trading (with safety.live_trading_enabled)",
};

/**
 * Throws SIDECAR_TIER_REFUSED unless the sidecar accepts the tool's tier over the relay (INPUT_UNKNOWN_TOOL
 * for a name that is no tool). Returns the tier, for the audit event.
 */
export function assertTierAccepted(tool: string, accepted: readonly string[]): Tier {
  const tier = toolTier(tool);
  if (tier === undefined) {
    throw new GatewayError("INPUT_UNKNOWN_TOOL", { details: { side: "sidecar" } });
  }
  if (accepted.includes(tier)) return tier;
  const list = TIERS.filter((t) => accepted.includes(t)).join(", ") || "nothing";
  throw new GatewayError("SIDECAR_TIER_REFUSED", {
    message: `The sidecar does not run ${tier} tools over the relay (it accepts ${list}); ${tool} was not run.`,
    userAction: `Run it on the sidecar's own machine instead, or ask the sidecar's owner to add ${tier} to sidecar.accepted_tiers${TIER_NEEDS[tier] ?? ""} in the sidecar's configuration.`,
    details: { tier, accepted_tiers: TIERS.filter((t) => accepted.includes(t)) },
  });
}

/** The granted scopes that are catalogue scopes (anything else is dropped, never widened). */
export function knownScopes(scopes: readonly string[]): ScopeName[] {
  return scopes.filter((scope): scope is ScopeName => isScopeName(scope));
}
