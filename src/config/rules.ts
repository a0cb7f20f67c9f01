// Rules that span keys. Anything that can place an order, expose the gateway or weaken a check must be asked
// for twice (the feature's own flag and its safety flag) and be complete; a half-configured feature is a
// problem, never a silently disabled or guessed one. Each rule reports under the key the operator has to
// change and never quotes a value.
import { isIP } from "node:net";
import type { ErrorCode } from "../../generated/errors.gen.ts";
import { DEFAULT_PROFILES, LIVE_MIN_RETENTION_DAYS } from "./constants.ts";
import { parsePinHash } from "./pin.ts";
import { type ConfigProblem, problem } from "./problems.ts";
import type { ConfigValues } from "./schema.ts";

/**
 * The exact loopback hosts, as WHATWG URL spells them, for which TLS verification may be skipped and plain
 * http is tolerated. The broker client applies the same TLS rule when it starts; checking it here too lets
 * `config validate` report it together with the other problems.
 */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

export interface RuleContext {
  /** True when the values come from a file (then the audit secret must come from the environment). */
  readonly fromFile: boolean;
}

type Report = (path: string, text: string, code?: ErrorCode) => void;

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Checks one URL key: scheme, no embedded credentials, no query or fragment where the key forbids them. */
function checkUrl(
  report: Report,
  path: string,
  text: string | undefined,
  options: { schemes: string[]; loopbackHttp?: boolean; bare?: boolean },
): void {
  if (text === undefined) return;
  const url = parseUrl(text);
  if (url === undefined) {
    report(path, "must be an absolute URL");
    return;
  }
  const scheme = url.protocol.slice(0, -1);
  const httpAllowed = options.loopbackHttp === true && scheme === "http" && LOOPBACK_HOSTS.has(url.hostname);
  if (!options.schemes.includes(scheme) && !httpAllowed) {
    const loopback = options.loopbackHttp === true ? " (http only for localhost)" : "";
    report(path, `must use ${options.schemes.join(" or ")}${loopback}`);
  }
  if (url.username !== "" || url.password !== "") report(path, "must not carry a user name or password");
  if (options.bare === true && (url.search !== "" || url.hash !== "")) {
    report(path, "must not have a query or fragment");
  }
}

function isProxy(entry: string): boolean {
  const [address, bits, extra] = entry.split("/");
  if (extra !== undefined || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** An Origin header value as browsers send it: scheme, host and port only. */
function isOrigin(entry: string): boolean {
  const url = parseUrl(entry);
  return url !== undefined && (url.protocol === "https:" || url.protocol === "http:") && url.origin === entry;
}

function flagPair(
  report: Report,
  feature: { path: string; value: boolean },
  safety: { path: string; value: boolean },
  code: ErrorCode,
): void {
  if (feature.value === safety.value) return;
  const [off, on] = feature.value ? [safety, feature] : [feature, safety];
  report(
    off.path,
    `must be true when ${on.path} is true: the feature flag and its safety flag must agree`,
    code,
  );
}

function brokerRules(c: ConfigValues, report: Report): void {
  const b = c.broker;
  checkUrl(report, "broker.base_url", b.base_url, { schemes: ["https"], bare: true });
  const host = parseUrl(b.base_url)?.hostname;
  if (b.allow_insecure_tls_for_localhost && host !== undefined && !LOOPBACK_HOSTS.has(host)) {
    report(
      "broker.allow_insecure_tls_for_localhost",
      "is allowed only when broker.base_url's host is localhost, 127.0.0.1 or [::1]; pin the certificate with broker.ca_file instead",
      "CONFIG_TLS_BYPASS_NON_LOCALHOST",
    );
  }
  if (b.allow_session_compete && !b.allow_session_init) {
    report("broker.allow_session_compete", "needs broker.allow_session_init: true");
  }
  // Lifting the client's pacing against a real gateway would earn 429s and IBKR's penalty box.
  if (b.pacing_profile === "bench" && b.backend !== "simulator") {
    report("broker.pacing_profile", "bench is only for the built-in simulator (backend simulator)");
  }
  if (b.profile !== undefined) {
    for (const [backend, name] of Object.entries(DEFAULT_PROFILES)) {
      if (name === b.profile && backend !== b.backend) {
        report(
          "broker.profile",
          `is the default profile of the ${backend} backend; pick another name so the two never share state`,
        );
      }
    }
  }
}

function safetyRules(c: ConfigValues, report: Report): void {
  const s = c.safety;
  flagPair(
    report,
    { path: "paper_trading.enabled", value: c.paper_trading.enabled },
    { path: "safety.paper_trading_enabled", value: s.paper_trading_enabled },
    "CONFIG_INVALID",
  );
  flagPair(
    report,
    { path: "live_trading.enabled", value: c.live_trading.enabled },
    { path: "safety.live_trading_enabled", value: s.live_trading_enabled },
    "CONFIG_LIVE_TRADING_FORBIDDEN",
  );
  flagPair(
    report,
    { path: "remote_mcp.enabled", value: c.remote_mcp.enabled },
    { path: "safety.remote_mcp_enabled", value: s.remote_mcp_enabled },
    "CONFIG_REMOTE_MCP_FORBIDDEN",
  );
  flagPair(
    report,
    { path: "sidecar.enabled", value: c.sidecar.enabled },
    { path: "safety.sidecar_enabled", value: s.sidecar_enabled },
    "CONFIG_SIDECAR_FORBIDDEN",
  );
  if (s.write_tools_enabled) {
    report(
      "safety.write_tools_enabled",
      "is always refused: there are no generic write tools; orders go through preview, approval and the paper or live tools",
      "CONFIG_WRITE_TOOLS_FORBIDDEN",
    );
  }
  if (s.direct_broker_oauth_enabled) {
    report(
      "safety.direct_broker_oauth_enabled",
      "is always refused: the gateway reaches IBKR only through the Client Portal Gateway, never with broker OAuth",
    );
  }
}

function orderRules(c: ConfigValues, report: Report): void {
  const paper = c.paper_trading;
  const live = c.live_trading;
  const previewNeededBy = [
    paper.enabled ? "paper_trading.enabled" : "",
    live.enabled ? "live_trading.enabled" : "",
  ]
    .filter((key) => key !== "")
    .join(" and ");
  if (previewNeededBy !== "" && !c.order_preview.enabled) {
    report(
      "order_preview.enabled",
      `must be true when ${previewNeededBy} is true: every order starts as a preview`,
    );
  }
  if (paper.enabled && paper.allowed_accounts.length === 0) {
    report(
      "paper_trading.allowed_accounts",
      "must list at least one paper account when paper trading is enabled",
    );
  }
  const paperAccounts = new Set(paper.allowed_accounts);
  live.allowed_accounts.forEach((account, index) => {
    if (paperAccounts.has(account)) {
      report(
        `live_trading.allowed_accounts[${index}]`,
        "is also on paper_trading.allowed_accounts; an account is either paper or live",
      );
    }
  });
  const liveCode: ErrorCode = "CONFIG_LIVE_TRADING_FORBIDDEN";
  const ids = new Map<string, number>();
  live.policies.forEach((policy, index) => {
    const first = ids.get(policy.id);
    if (first !== undefined) {
      report(
        `live_trading.policies[${index}].id`,
        `repeats the id of live_trading.policies[${first}]`,
        liveCode,
      );
    } else {
      ids.set(policy.id, index);
    }
    if ((policy.max_orders_per_window === undefined) !== (policy.window_seconds === undefined)) {
      const missing = policy.window_seconds === undefined ? "window_seconds" : "max_orders_per_window";
      report(
        `live_trading.policies[${index}].${missing}`,
        "is required: max_orders_per_window and window_seconds go together",
        liveCode,
      );
    }
  });
  if (live.risk_policy_id !== undefined && !ids.has(live.risk_policy_id)) {
    report("live_trading.risk_policy_id", "must be the id of a policy under live_trading.policies", liveCode);
  }
  if (!live.enabled) return;
  if (!c.order_preview.account_modes.includes("live")) {
    report(
      "order_preview.account_modes",
      "must include live when live trading is enabled: a live order starts as a preview of a live account",
      liveCode,
    );
  }
  if (live.allowed_accounts.length === 0) {
    report(
      "live_trading.allowed_accounts",
      "must list at least one account when live trading is enabled",
      liveCode,
    );
  }
  if (live.risk_policy_id === undefined) {
    report("live_trading.risk_policy_id", "is required when live trading is enabled", liveCode);
  }
  if (!live.paper_to_live_checklist_acknowledged) {
    report(
      "live_trading.paper_to_live_checklist_acknowledged",
      "must be true when live trading is enabled (complete the paper-to-live checklist first)",
      liveCode,
    );
  }
  if (c.audit.retention_days < LIVE_MIN_RETENTION_DAYS) {
    report(
      "audit.retention_days",
      `must be at least ${LIVE_MIN_RETENTION_DAYS} when live trading is enabled`,
      liveCode,
    );
  }
}

function approvalRules(c: ConfigValues, report: Report): void {
  const a = c.approvals;
  if (a.min_ttl_seconds > a.max_ttl_seconds) {
    report("approvals.min_ttl_seconds", "must not be above approvals.max_ttl_seconds");
  } else if (a.default_ttl_seconds < a.min_ttl_seconds || a.default_ttl_seconds > a.max_ttl_seconds) {
    report(
      "approvals.default_ttl_seconds",
      "must lie between approvals.min_ttl_seconds and approvals.max_ttl_seconds",
    );
  }
  const pinHash = c.operator.pin_hash;
  if (pinHash !== undefined && parsePinHash(pinHash) === undefined) {
    report("operator.pin_hash", "is not a PIN hash written by `ibkr-agent config set-pin`");
  }
  if (a.require_human && pinHash === undefined) {
    report(
      "operator.pin_hash",
      "is required when approvals.require_human is true (set it with `ibkr-agent config set-pin`)",
    );
  }
}

function auditRules(c: ConfigValues, context: RuleContext, report: Report): void {
  const a = c.audit;
  if (context.fromFile && a.secret_env === undefined) {
    report(
      "audit.secret_env",
      "is required in a config file: name the environment variable that holds the audit secret (at least 32 bytes)",
    );
  }
  const keyIds = new Map<string, string>([[a.key_id, "audit.key_id"]]);
  a.previous_secrets.forEach((previous, index) => {
    const seen = keyIds.get(previous.key_id);
    if (seen !== undefined)
      report(`audit.previous_secrets[${index}].key_id`, `repeats the key id of ${seen}`);
    else keyIds.set(previous.key_id, `audit.previous_secrets[${index}]`);
    if (previous.secret_env === a.secret_env) {
      report(
        `audit.previous_secrets[${index}].secret_env`,
        "must name another variable than audit.secret_env",
      );
    }
  });
}

function remoteRules(c: ConfigValues, report: Report): void {
  const r = c.remote_mcp;
  const code: ErrorCode = "CONFIG_REMOTE_MCP_FORBIDDEN";
  checkUrl(report, "remote_mcp.resource", r.resource, { schemes: ["https"], loopbackHttp: true });
  checkUrl(report, "remote_mcp.issuer", r.issuer, { schemes: ["https"] });
  checkUrl(report, "remote_mcp.jwks_url", r.jwks_url, { schemes: ["https"] });
  const port = Number(r.bind.slice(r.bind.lastIndexOf(":") + 1));
  if (!(port >= 1 && port <= 65535)) report("remote_mcp.bind", "must end in a port from 1 to 65535");
  r.trusted_proxies.forEach((entry, index) => {
    if (!isProxy(entry)) {
      report(
        `remote_mcp.trusted_proxies[${index}]`,
        "must be an IP address or a CIDR range such as 10.0.0.0/8",
      );
    }
  });
  r.allowed_origins.forEach((entry, index) => {
    if (!isOrigin(entry)) {
      report(
        `remote_mcp.allowed_origins[${index}]`,
        "must be an origin: http or https, a host and an optional port, nothing after (https://app.example.com)",
      );
    }
  });
  if ((r.tls_cert_file === undefined) !== (r.tls_key_file === undefined)) {
    report(
      r.tls_cert_file === undefined ? "remote_mcp.tls_cert_file" : "remote_mcp.tls_key_file",
      "must be set together with its pair: HTTPS needs both tls_cert_file and tls_key_file",
    );
  }
  if (!r.enabled) return;
  for (const key of ["resource", "issuer", "jwks_url"] as const) {
    if (r[key] === undefined) report(`remote_mcp.${key}`, "is required when remote MCP is enabled", code);
  }
  if (r.allowed_scopes.length === 0) {
    report("remote_mcp.allowed_scopes", "must list at least one scope when remote MCP is enabled", code);
  }
}

/**
 * The relay has two ends with different needs. The remote gateway (backend relay) serves remote MCP and
 * routes calls; it holds no broker session, so it needs remote MCP and the relay switched on. The sidecar
 * (any other backend) connects out to the remote's relay endpoint and runs the calls on its own broker
 * with its own gates; it serves no MCP, so it needs only the URL. Tiers it accepts beyond preview must be
 * enabled in its own configuration too: accepting paper or live over the relay is never a side effect.
 */
function sidecarRules(c: ConfigValues, report: Report): void {
  const s = c.sidecar;
  const code: ErrorCode = "CONFIG_SIDECAR_FORBIDDEN";
  checkUrl(report, "sidecar.remote_url", s.remote_url, { schemes: ["https", "wss"] });
  if (s.heartbeat_interval_seconds >= s.heartbeat_timeout_seconds) {
    report("sidecar.heartbeat_timeout_seconds", "must be above sidecar.heartbeat_interval_seconds");
  }
  const relay = c.broker.backend === "relay";
  if (relay) {
    if (!s.enabled) {
      report(
        "sidecar.enabled",
        "must be true with broker.backend relay (the relay gateway routes to sidecars)",
        code,
      );
    }
    if (!c.remote_mcp.enabled) {
      report(
        "remote_mcp.enabled",
        "must be true with broker.backend relay: its callers are remote MCP clients, identified by their tokens",
        code,
      );
    }
    if (s.remote_url !== undefined) {
      report(
        "sidecar.remote_url",
        "is for a sidecar; the relay gateway (broker.backend relay) does not connect anywhere",
        code,
      );
    }
    return;
  }
  if (!s.enabled) return;
  if (s.remote_url === undefined)
    report("sidecar.remote_url", "is required when the sidecar is enabled", code);
  const needs: [tier: string, enabled: boolean, key: string][] = [
    ["paper", c.paper_trading.enabled, "paper_trading.enabled"],
    ["live", c.live_trading.enabled, "live_trading.enabled"],
  ];
  for (const [tier, enabled, key] of needs) {
    if ((s.accepted_tiers as readonly string[]).includes(tier) && !enabled) {
      report("sidecar.accepted_tiers", `lists ${tier}, which needs ${key} on this sidecar as well`, code);
    }
  }
}

/** Every cross-key problem of schema-valid values. */
export function ruleProblems(c: ConfigValues, context: RuleContext): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const report: Report = (path, text, code = "CONFIG_INVALID") => {
    out.push(problem(path, text, code));
  };
  brokerRules(c, report);
  safetyRules(c, report);
  orderRules(c, report);
  approvalRules(c, report);
  auditRules(c, context, report);
  remoteRules(c, report);
  sidecarRules(c, report);
  return out;
}
